import { execFileSync } from 'node:child_process'
import {
  type AddressInfo,
  connect as connectNet,
  createServer as createNetServer,
  type Socket,
} from 'node:net'
import { describe, expect, it } from 'vitest'
import { collectJob, jobStatus, submitJob, type WorkLine, workJob } from '../../../src/redis/index.js'
import { keyList, openJob } from '../../../src/redis/job/keys.js'
import { CLAIM, RECORD, STATUS } from '../../../src/redis/job/scripts.js'
import { formatStatus } from '../../../src/cli/commands/status.js'
import { deletePrefix, REDIS_URL, redisPrefix } from '../helpers.js'

const { prefix, redis: outside } = redisPrefix()

let jobs = 0
const place = () => ({ job: `lib-${++jobs}`, url: REDIS_URL, prefix })
const numbers = (n: number) => Array.from({ length: n }, (_, i) => `item ${i + 1}`)
const echo = async ({ line, data }: WorkLine) => ({ ok: line % 7 !== 0, result: `${line}:${data}` })

/**
 * A worker (concurrency 1, lease 600 ms) that runs line 1 until `release()`, so it holds line 2
 * claimed and not started meanwhile; `runs`: the lines it has started.
 */
function holdingLineOne(where: ReturnType<typeof place>, name: string) {
  const runs: number[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const outcome = workJob({
    ...where,
    name,
    concurrency: 1,
    lease: 600,
    handle: async (line) => {
      runs.push(line.line)
      if (line.line === 1) await gate
      return echo(line)
    },
  })
  return { runs, release, outcome }
}

async function collected(where: { job: string; url: string; prefix: string }) {
  const out = []
  for await (const entry of collectJob(where)) out.push(entry)
  return out
}

describe('a job on Redis Streams, in one process', () => {
  it('runs every line once with several workers, and collect gives them in input order', async () => {
    const where = place()
    expect(await submitJob({ ...where, lines: numbers(1200) })).toEqual({
      queued: 1200,
      total: 1200,
      already: false,
      resumed: 0,
    })
    const runs = new Map<number, number>()
    const handle = async (line: WorkLine) => {
      runs.set(line.line, (runs.get(line.line) ?? 0) + 1)
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
      return echo(line)
    }
    const outcomes = await Promise.all(
      [1, 2, 3].map((n) => workJob({ ...where, handle, concurrency: 8, name: `w${n}` })),
    )
    expect(outcomes.every((o) => o.complete)).toBe(true)
    expect(outcomes.reduce((sum, o) => sum + o.done, 0)).toBe(1200)
    expect([...runs.values()].every((n) => n === 1)).toBe(true)
    expect(runs.size).toBe(1200)
    const lines = await collected(where)
    expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1))
    expect(lines[41]).toEqual({ line: 42, result: '42:item 42' })
    const status = await jobStatus(where)
    expect(status).toMatchObject({ state: 'complete', total: 1200, done: 1200, claimed: 0, duplicates: 0 })
    expect(status.failed).toBe(Math.floor(1200 / 7))
    expect(status.workers.map((w) => w.name).sort()).toEqual(['w1', 'w2', 'w3'])
    expect(status.expiresInMs).toBeGreaterThan(6 * 86_400_000)
    // Every key of a complete job expires.
    const keys = await outside().keys(`${prefix}job:{${where.job}}:*`)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(await outside().pttl(key)).toBeGreaterThan(0)
  })

  it('a job left incomplete expires, at least 7 days after a submit or a worker last touched it', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(20), ttl: '1m' })
    const stop = new AbortController()
    let handled = 0
    const outcome = await workJob({
      ...where,
      name: 'quitter',
      concurrency: 1,
      signal: stop.signal,
      handle: async (line) => {
        if (++handled === 5) stop.abort()
        return echo(line)
      },
    })
    expect(outcome).toMatchObject({ complete: false, done: 5 })
    const week = 7 * 86_400_000
    const status = await jobStatus(where)
    expect(status).toMatchObject({ state: 'queued', done: 5 })
    expect(status.expiresInMs).toBeGreaterThan(week - 60_000)
    expect(status.expiresInMs).toBeLessThanOrEqual(week)
    expect(formatStatus(status)).toContain('no worker is working: its keys, results too, expire in')
    // All five keys, the results and the workers' too, not only those the submit made.
    const keys = await outside().keys(`${prefix}job:{${where.job}}:*`)
    expect(keys.map((key) => key.slice(key.lastIndexOf(':') + 1)).sort()).toEqual([
      'deadlines',
      'lines',
      'meta',
      'results',
      'workers',
    ])
    for (const key of keys) {
      const ttl = await outside().pttl(key)
      expect(ttl).toBeGreaterThan(week - 60_000)
      expect(ttl).toBeLessThanOrEqual(week)
    }
    // A worker whose lease holds for another hour may not call before then: counted from its end.
    const { keys: jobKeys, connection } = openJob(where, 'test')
    try {
      const [seconds] = (await connection.call('TIME', [])) as [string, string]
      await outside().zadd(
        `${prefix}job:{${where.job}}:deadlines`,
        Number(seconds) * 1000 + 3_600_000,
        'slow',
      )
      await connection.run(CLAIM, keyList(jobKeys), ['probe', 10_000, 0, '', 0])
      expect(await outside().pttl(`${prefix}job:{${where.job}}:meta`)).toBeGreaterThan(
        week + 3_600_000 - 60_000,
      )
    } finally {
      await connection.close()
    }
  })

  it('refuses a ttl under a minute, which would let the keys go before the workers see the job complete', async () => {
    const where = place()
    await expect(submitJob({ ...where, lines: numbers(3), ttl: '10s' })).rejects.toThrow(
      /submitJob: option `ttl` must be at least 1 minute/,
    )
    expect(await outside().exists(`${prefix}job:{${where.job}}:meta`)).toBe(0)
  })

  it('the same input again is a no-op; another one is refused, naming the job', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(30) })
    expect(await submitJob({ ...where, lines: numbers(30) })).toMatchObject({ queued: 0, already: true })
    const changed = numbers(30)
    changed[10] = 'other'
    await expect(submitJob({ ...where, lines: changed })).rejects.toMatchObject({
      code: 'JOB_MISMATCH',
      message: expect.stringContaining(`job ${where.job} already holds 30 line(s)`),
    })
    await expect(submitJob({ ...where, lines: numbers(31) })).rejects.toMatchObject({ code: 'JOB_MISMATCH' })
    await expect(submitJob({ ...where, lines: numbers(29) })).rejects.toThrow(/only 29 line/)
  })

  it('a submit that stopped part way is finished by the next, without queuing a line twice', async () => {
    const where = place()
    async function* dies() {
      yield* numbers(700)
      throw new Error('reading the input failed')
    }
    await expect(submitJob({ ...where, lines: dies() })).rejects.toThrow('reading the input failed')
    expect(await jobStatus(where)).toMatchObject({ state: 'submitting', total: null, queued: 500 })
    expect(await submitJob({ ...where, lines: numbers(900) })).toEqual({
      queued: 400,
      total: 900,
      already: false,
      resumed: 500,
    })
    await workJob({ ...where, handle: echo })
    expect((await collected(where)).map((l) => l.line)).toEqual(Array.from({ length: 900 }, (_, i) => i + 1))
  })

  it('workers that join before the submit ends wait for its last line', async () => {
    const where = place()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    async function* slow() {
      yield* numbers(600)
      await gate
      yield* numbers(10)
    }
    const submitting = submitJob({ ...where, lines: slow() })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const working = workJob({ ...where, handle: echo })
    // The first chunk queued (500 lines) is run, and no more: the worker waits for the rest.
    await expect.poll(async () => (await jobStatus(where)).done, { timeout: 10_000 }).toBe(500)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await jobStatus(where)).done).toBe(500)
    release()
    await submitting
    expect(await working).toMatchObject({ complete: true, done: 610 })
  })

  it('an empty input is a complete job', async () => {
    const where = place()
    expect(await submitJob({ ...where, lines: [] })).toMatchObject({ total: 0 })
    expect(await workJob({ ...where, handle: echo })).toMatchObject({ complete: true, done: 0 })
  })

  it('results sent again after their reply was lost count as they did then, not as run twice', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(3) })
    const { keys, connection } = openJob(where, 'test')
    try {
      /** A RECORD call: `repeated` of the first results repeat a call whose reply was lost. */
      const record = async (worker: string, repeated: number, ...results: [string, string, string][]) =>
        (
          (await connection.run(RECORD, keyList(keys), [
            worker,
            10_000,
            '',
            repeated,
            ...results.flat(),
          ])) as number[]
        ).slice(4)
      // Another worker recorded line 3 first.
      expect(await record('w2', 0, ['3', '1', 'other'])).toEqual([1, 0])
      const lost: [string, string, string][] = [
        ['1', '1', 'first'],
        ['2', '1', 'second'],
        ['3', '1', 'third'],
      ]
      // Redis wrote w1's call and its reply was lost: w1 sends the same results again, told so.
      expect(await record('w1', 0, ...lost)).toEqual([2, 1])
      expect(await record('w1', 3, ...lost)).toEqual([2, 1])
      // Line 1 again, not as a repeat (w1 ran it twice, after a takeover): a duplicate.
      expect(await record('w1', 0, ['1', '1', 'again'])).toEqual([0, 1])
      expect(await jobStatus(where)).toMatchObject({ done: 3, duplicates: 2 })
      expect((await collected(where)).map((entry) => entry.result)).toEqual(['first', 'second', 'other'])
      // Status leaves each worker's last lines in Redis (a fleet's would be sent on every call).
      expect(await connection.call('HEXISTS', [keys.workers, 'w1:last'])).toBe(1)
      const workerFields = ((await connection.run(STATUS, keyList(keys), [])) as unknown[])[6] as string[]
      expect(workerFields).toContain('w1:done')
      expect(workerFields.filter((field) => field.endsWith(':last'))).toEqual([])
    } finally {
      await connection.close()
    }
  })

  it('the lines of a worker whose lease ran out go to the others', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(40) })
    const key = (name: string) => `${prefix}job:{${where.job}}:${name}`
    // A worker that claimed ten lines and then went silent, as Redis sees one: its lease is in the past.
    await outside().xreadgroup('GROUP', 'workers', 'ghost', 'COUNT', 10, 'STREAMS', key('lines'), '>')
    await outside().zadd(key('deadlines'), Date.now() - 1000, 'ghost')
    await outside().hset(key('workers'), 'ghost:first', Date.now() - 5000)
    const runs: number[] = []
    const outcome = await workJob({
      ...where,
      name: 'live',
      handle: async (line) => {
        runs.push(line.line)
        return echo(line)
      },
    })
    expect(outcome).toMatchObject({ complete: true, done: 40, duplicates: 0 })
    expect(runs.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    const status = await jobStatus(where)
    expect(status).toMatchObject({ done: 40, takenOver: 10, claimed: 0 })
    // The ghost no longer holds anything: it was removed from the group once its lines were taken.
    expect(status.workers.find((w) => w.name === 'ghost')).toMatchObject({ alive: false, claimed: 0 })
  })

  it('a live worker keeps its lines, however long they take', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(6) })
    const ran = new Map<number, string>()
    const slow = workJob({
      ...where,
      name: 'slow',
      lease: 300,
      concurrency: 6,
      handle: async (line) => {
        ran.set(line.line, 'slow')
        await new Promise((resolve) => setTimeout(resolve, 1200))
        return echo(line)
      },
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const other = workJob({
      ...where,
      name: 'other',
      lease: 300,
      handle: async (line) => {
        ran.set(line.line, 'other')
        return echo(line)
      },
    })
    expect(await other).toMatchObject({ complete: true, done: 0 })
    expect(await slow).toMatchObject({ complete: true, done: 6, duplicates: 0 })
    expect([...ran.values()]).toEqual(Array(6).fill('slow'))
    expect((await jobStatus(where)).takenOver).toBe(0)
  })

  it('a stopped worker gives the lines it had not started back at once', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(50) })
    const stop = new AbortController()
    let started = 0
    const first = workJob({
      ...where,
      name: 'first',
      concurrency: 5,
      signal: stop.signal,
      handle: async (line) => {
        if (++started === 5) stop.abort()
        await new Promise((resolve) => setTimeout(resolve, 20))
        return echo(line)
      },
    })
    expect(await first).toMatchObject({ complete: false, done: 5 })
    expect(await workJob({ ...where, name: 'second', lease: 60_000, handle: echo })).toMatchObject({
      complete: true,
      done: 45,
    })
    expect((await collected(where)).length).toBe(50)
  })

  it('a handler that throws stops its worker after recording what finished; its lines go to the others', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(20) })
    const failing = workJob({
      ...where,
      name: 'failing',
      concurrency: 2,
      handle: async (line) => {
        if (line.line === 4) throw new Error('handler bug')
        return echo(line)
      },
    })
    await expect(failing).rejects.toThrow('handler bug')
    expect(await workJob({ ...where, name: 'fine', handle: echo })).toMatchObject({ complete: true })
    expect((await collected(where)).map((l) => l.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('an answer read after its worker lost the lease (to a call Redis ran before) starts none of the lines taken over', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(30) })
    // Between the worker and Redis, a proxy that can hold what goes either way.
    const target = new URL(REDIS_URL)
    const held = { up: false, down: false }
    const waiting: (() => void)[] = []
    const proxy = createNetServer((client) => {
      const upstream = connectNet(Number(target.port || 6379), target.hostname)
      const pass = (from: Socket, to: Socket, way: 'up' | 'down') =>
        from.on('data', (chunk) => (held[way] ? waiting.push(() => to.write(chunk)) : to.write(chunk)))
      pass(client, upstream, 'up')
      pass(upstream, client, 'down')
      const close = () => (client.destroy(), upstream.destroy())
      client.on('error', close).on('close', close)
      upstream.on('error', close).on('close', close)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const port = (proxy.address() as AddressInfo).port
    try {
      const startedAfter: number[] = []
      let released = false
      let recorded = 0
      const slow = workJob({
        ...where,
        url: `redis://127.0.0.1:${port}`,
        name: 'slow',
        concurrency: 2,
        lease: '600ms',
        on: { recorded: () => recorded++ },
        handle: async (line) => {
          if (released) startedAfter.push(line.line)
          await new Promise((resolve) => setTimeout(resolve, 50))
          return echo(line)
        },
      })
      await expect.poll(() => recorded).toBeGreaterThanOrEqual(2)
      // Its answers are held first, so that a call it makes now is run by Redis and its answer kept;
      // then its calls too, until its lease has lapsed and another worker did the whole job.
      held.down = true
      await new Promise((resolve) => setTimeout(resolve, 100))
      held.up = true
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect(await workJob({ ...where, name: 'other', handle: echo })).toMatchObject({ complete: true })
      released = true
      held.up = held.down = false
      for (const write of waiting.splice(0)) write()
      await slow
      // The answer it read first renewed nothing: it started none of the lines it had claimed ahead.
      expect(startedAfter).toEqual([])
      expect(await jobStatus(where)).toMatchObject({ state: 'complete', done: 30 })
    } finally {
      proxy.close()
    }
  })

  it('a worker whose job was lost and submitted anew under its name records nothing into the new one', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(10) })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = 0
    const old = workJob({
      ...where,
      concurrency: 2,
      handle: async ({ line }) => {
        started++
        await gate
        return { ok: true, result: `old ${line}` }
      },
    })
    await expect.poll(() => started).toBe(2)
    // Redis loses the job; another input is submitted under the same name before the worker speaks again.
    await deletePrefix(outside(), `${prefix}job:{${where.job}}:`)
    await submitJob({ ...where, lines: ['a', 'b', 'c'] })
    release()
    await expect(old).rejects.toMatchObject({
      code: 'JOB_NOT_FOUND',
      message: expect.stringContaining('is not in Redis'),
    })
    expect(await jobStatus(where)).toMatchObject({ total: 3, done: 0, claimed: 0 })
    await workJob({ ...where, handle: echo })
    expect(await collected(where)).toEqual([
      { line: 1, result: '1:a' },
      { line: 2, result: '2:b' },
      { line: 3, result: '3:c' },
    ])
  })

  it('a worker takes back its own pending lines when it holds none (their results were lost)', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(12) })
    const key = (name: string) => `${prefix}job:{${where.job}}:${name}`
    // Lines claimed under this worker's name, then forgotten (as if Redis lost the results it recorded).
    await outside().xreadgroup('GROUP', 'workers', 'me', 'COUNT', 5, 'STREAMS', key('lines'), '>')
    await outside().zadd(key('deadlines'), Date.now() + 60_000, 'me')
    const outcome = await workJob({ ...where, name: 'me', handle: echo })
    expect(outcome).toMatchObject({ complete: true, done: 12 })
    expect((await collected(where)).map((l) => l.line)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
  })

  it('a worker frozen past its lease does not start the claimed lines the others took meanwhile', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(4) })
    const { runs, release, outcome: frozen } = holdingLineOne(where, 'frozen')
    // It holds line 1 (running) and line 2 (claimed, not started).
    await expect.poll(() => runs).toEqual([1])
    release()
    // Freezes this process (its event loop, so the worker's heartbeat too) while another process
    // waits past the lease, takes the frozen worker's two lines, runs them and leaves.
    const taker = `
      const { workJob } = await import(${JSON.stringify(new URL('../../../dist/redis/index.js', import.meta.url).href)})
      await new Promise((resolve) => setTimeout(resolve, 900))
      const stop = new AbortController()
      const ran = []
      const outcome = await workJob({ job: ${JSON.stringify(where.job)}, url: ${JSON.stringify(REDIS_URL)}, prefix: ${JSON.stringify(prefix)},
        name: 'taker', concurrency: 2, signal: stop.signal,
        handle: async ({ line, data }) => {
          ran.push(line)
          if (ran.length === 2) stop.abort()
          return { ok: true, result: line + ':' + data }
        } })
      process.stdout.write(JSON.stringify({ ...outcome, ran }))`
    const taken = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', taker], { encoding: 'utf8' }),
    )
    expect(taken).toMatchObject({ complete: false, done: 2, ran: [1, 2] })
    const outcome = await frozen
    // Line 1 was running when it froze: it ends, and counts as run twice. Line 2 is the taker's now:
    // it never starts here. Lines 3 and 4, which the taker gave back, run here once.
    expect(runs).toEqual([1, 3, 4])
    expect(outcome).toMatchObject({ complete: true, done: 2, duplicates: 1 })
    expect(await jobStatus(where)).toMatchObject({ done: 4, duplicates: 1 })
  })

  it('a worker still holding claimed lines ends once the others have recorded every line', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(4) })
    const { runs, release, outcome: holder } = holdingLineOne(where, 'holder')
    // It runs line 1 and holds line 2; another worker records every line meanwhile.
    await expect.poll(() => runs).toEqual([1])
    const { keys, connection } = openJob(where, 'test')
    try {
      const results = [1, 2, 3, 4].flatMap((line) => [line, 1, `${line}:other`])
      await connection.run(RECORD, keyList(keys), ['other', 10_000, '', 0, ...results])
    } finally {
      await connection.close()
    }
    // Its claims, every third of its lease, tell it the job is complete (five of them go by here):
    // line 2 never starts, line 1 counts as run twice, and it ends instead of waiting for line 2.
    await expect.poll(async () => (await jobStatus(where)).state).toBe('complete')
    await new Promise((resolve) => setTimeout(resolve, 1000))
    release()
    expect(await holder).toMatchObject({ complete: true, done: 0, duplicates: 1 })
    expect(runs).toEqual([1])
  })

  it('refuses bad options, naming them', async () => {
    await expect(submitJob({ job: 'has space', lines: [] })).rejects.toThrow(/option `job`/)
    await expect(submitJob({ ...place(), lines: 5 as never })).rejects.toThrow(/option `lines`/)
    await expect(submitJob({ ...place(), lines: [{ data: 3 } as never] })).rejects.toThrow(/line 1 must be/)
    await expect(workJob({ ...place(), handle: echo, concurrency: 0 })).rejects.toThrow(
      /option `concurrency`/,
    )
    await expect(workJob({ ...place(), handle: echo, lease: 10 })).rejects.toThrow(/option `lease`/)
    await expect(workJob({ ...place(), handle: echo })).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' })
  })
})
