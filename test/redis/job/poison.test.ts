import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { collectJob, jobStatus, submitJob, type WorkLine, workJob } from '../../../src/redis/index.js'
import { formatStatus } from '../../../src/cli/commands/status.js'
import { keyList, openJob } from '../../../src/redis/job/keys.js'
import { CLAIM, LEAVE } from '../../../src/redis/job/scripts.js'
import { REDIS_URL, redisPrefix } from '../helpers.js'

/*
 * A line that kills every worker running it (a crash, an out-of-memory kill) must not go round the
 * fleet for ever. The lines of a dead worker are suspects, each run alone; a line whose worker dies
 * while running it alone has fallen; at `poisonAfter` falls it is recorded failed, not run again.
 */

const { prefix, redis: outside } = redisPrefix()
const WORKER = fileURLToPath(new URL('../fixtures/job-poison-worker.mjs', import.meta.url))
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
})

let jobs = 0
const place = () => ({ job: `poison-${++jobs}`, url: REDIS_URL, prefix })
const numbers = (n: number) => Array.from({ length: n }, (_, i) => `item ${i + 1}`)
const key = (job: string, name: string) => `${prefix}job:{${job}}:${name}`

/** Makes `ghost` hold `count` lines, as a worker that died would: claimed, its lease in the past. */
async function ghostHolds(job: string, ghost: string, count: number): Promise<void> {
  await outside().xreadgroup('GROUP', 'workers', ghost, 'COUNT', count, 'STREAMS', key(job, 'lines'), '>')
  await outside().zadd(key(job, 'deadlines'), Date.now() - 1000, ghost)
  await outside().hset(key(job, 'workers'), `${ghost}:first`, Date.now() - 5000)
}

describe('suspect lines, in one process', () => {
  it("runs each line of a dead worker alone, once the lines in flight have ended; the others' as usual", async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(40) })
    await ghostHolds(where.job, 'ghost', 6)
    let inFlight = 0
    const alone: { line: number; others: number; falls: number | undefined }[] = []
    const outcome = await workJob({
      ...where,
      name: 'live',
      concurrency: 4,
      handle: async (line: WorkLine) => {
        if (line.falls !== undefined) alone.push({ line: line.line, others: inFlight, falls: line.falls })
        inFlight++
        await new Promise((resolve) => setTimeout(resolve, 3))
        inFlight--
        return { ok: true, result: `${line.line}` }
      },
    })
    expect(outcome).toMatchObject({ complete: true, done: 40 })
    // The ghost's six lines, each with nothing else in flight, none fallen yet.
    expect(alone.map((a) => a.line).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    expect(alone.every((a) => a.others === 0 && a.falls === 0)).toBe(true)
    // Recorded, they are suspects no more.
    expect(await outside().exists(key(where.job, 'suspects'))).toBe(0)
  })

  it('a suspect taken over mid-run waits for the lines in flight to be recorded; the lines after it wait for its own record', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(12) })
    // The ghost holds lines 1-4 and a quitter 5-10, both with a live lease; the worker below gets
    // lines 11-12 and is held there.
    const lines = key(where.job, 'lines')
    const deadlines = key(where.job, 'deadlines')
    await outside().xreadgroup('GROUP', 'workers', 'ghost', 'COUNT', 4, 'STREAMS', lines, '>')
    await outside().xreadgroup('GROUP', 'workers', 'quitter', 'COUNT', 6, 'STREAMS', lines, '>')
    await outside().zadd(deadlines, Date.now() + 60_000, 'ghost', Date.now() + 60_000, 'quitter')
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    // What the worker knows recorded (its `recorded` events), against the lines ended: read as a
    // line starts, so a start before the record it must wait for is seen.
    let recorded = 0
    let ended = 0
    /** Lines ended by the time the last suspect ended: all must be recorded before another starts. */
    let owed = 0
    const started: number[] = []
    const suspects = new Set<number>()
    const early: string[] = []
    let inFlight = 0
    const working = workJob({
      ...where,
      name: 'live',
      concurrency: 2,
      lease: 600,
      on: { recorded: (progress) => (recorded = progress.mine) },
      handle: async (line: WorkLine) => {
        const suspect = line.falls !== undefined
        // A suspect starts alone, once every line before it is recorded; any line, once the suspects are.
        if (suspect && (inFlight > 0 || recorded < ended)) early.push(`suspect ${line.line}`)
        if (recorded < owed) early.push(`line ${line.line} before suspect's record`)
        started.push(line.line)
        if (suspect) suspects.add(line.line)
        inFlight++
        if (line.line === 11 || line.line === 12) await gate
        await new Promise((resolve) => setTimeout(resolve, 2))
        inFlight--
        ended++
        if (suspect) owed = ended
        return { ok: true, result: `${line.line}` }
      },
    })
    await expect.poll(() => started.length).toBe(2)
    // The ghost dies now, and the quitter leaves: the worker's claims take the ghost's lines first
    // (suspects, which wait for 11 and 12), then the quitter's (no suspects: it had not started them).
    await outside().zadd(deadlines, Date.now() - 2000, 'ghost', Date.now() - 1000, 'quitter')
    await outside().hset(key(where.job, 'workers'), 'quitter:left', Date.now())
    await expect.poll(async () => (await jobStatus(where)).takenOver, { timeout: 10_000 }).toBeGreaterThan(0)
    expect(started).toEqual([11, 12])
    release()
    expect(await working).toMatchObject({ complete: true, done: 12 })
    expect([...suspects].sort()).toEqual([1, 2, 3, 4])
    expect(started.slice(2).filter((l) => !suspects.has(l)).length).toBe(6)
    expect(early).toEqual([])
  })

  it('a line its worker died running alone has fallen; at poisonAfter falls its result says so, and it is not run', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(10) })
    await ghostHolds(where.job, 'ghost', 3)
    // The ghost was running line 2 alone (a suspect that had fallen once already) when it died.
    await outside().hset(key(where.job, 'suspects'), 's:2', 1, 'a:2', 'ghost', 's:3', 0)
    const before = await jobStatus(where)
    expect(before.suspects).toBe(2)
    expect(formatStatus(before)).toContain('2 line(s) held by workers that died: each runs alone')
    const ran: number[] = []
    const outcome = await workJob({
      ...where,
      name: 'live',
      handle: async ({ line }) => {
        ran.push(line)
        return { ok: true, result: `${line}` }
      },
    })
    expect(outcome).toMatchObject({ complete: true, done: 10 })
    expect(ran.sort((a, b) => a - b)).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10])
    const results = new Map<number, string>()
    for await (const { line, result } of collectJob(where)) results.set(line, result)
    expect(JSON.parse(results.get(2)!)).toEqual({
      line: 2,
      error: { code: 'POISON_LINE', message: 'line 2 was not run again: 2 workers died running it alone' },
    })
    expect(await jobStatus(where)).toMatchObject({ done: 10, ok: 9, failed: 1, suspects: 0 })
  })

  it('the lines of a worker that left (it had not started them) are no suspects', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(10) })
    await ghostHolds(where.job, 'quitter', 5)
    await outside().hset(key(where.job, 'workers'), 'quitter:left', Date.now())
    const falls: (number | undefined)[] = []
    await workJob({
      ...where,
      name: 'live',
      handle: async ({ line, falls: f }) => {
        falls.push(f)
        return { ok: true, result: `${line}` }
      },
    })
    expect(falls).toHaveLength(10)
    expect(falls.every((f) => f === undefined)).toBe(true)
  })

  it('a name that left and came back is a worker again: its lines are suspects if it dies', async () => {
    const where = place()
    await submitJob({ ...where, lines: numbers(6) })
    const { keys, connection } = openJob(where, 'test')
    try {
      // 'w' claims two lines and leaves (giving them back), then comes back under its name, claims
      // again (its own two lines, then two new ones) and dies.
      await connection.run(CLAIM, keyList(keys), ['w', 10_000, 2, '', 1])
      await connection.run(LEAVE, keyList(keys), ['w', ''])
      await connection.run(CLAIM, keyList(keys), ['w', 10_000, 4, '', 1])
    } finally {
      await connection.close()
    }
    await outside().zadd(key(where.job, 'deadlines'), Date.now() - 1000, 'w')
    const falls = new Map<number, number | undefined>()
    await workJob({
      ...where,
      name: 'live',
      handle: async ({ line, falls: f }) => {
        falls.set(line, f)
        return { ok: true, result: `${line}` }
      },
    })
    expect([1, 2, 3, 4].map((line) => falls.get(line))).toEqual([0, 0, 0, 0])
    expect([5, 6].map((line) => falls.get(line))).toEqual([undefined, undefined])
  })

  it('refuses a poisonAfter that is not a whole number >= 1, and a poisoned that is not a function', async () => {
    const where = place()
    const handle = async () => ({ ok: true, result: '' })
    await expect(workJob({ ...where, handle, poisonAfter: 0 })).rejects.toThrow(/option `poisonAfter`/)
    await expect(workJob({ ...where, handle, poisonAfter: 1.5 })).rejects.toThrow(/option `poisonAfter`/)
    await expect(
      workJob({ ...where, handle, poisoned: 'no' as unknown as () => { ok: boolean; result: string } }),
    ).rejects.toThrow(/option `poisoned`/)
  })
})

describe('a line that SIGKILLs every worker process that runs it', () => {
  it('kills three workers (one among others, then two alone), is recorded POISON_LINE; every other line once', async () => {
    const where = place()
    const LINES = 60
    const POISON = 7
    await submitJob({ ...where, lines: numbers(LINES) })
    const config = (n: number) => ({
      ...where,
      poison: POISON,
      concurrency: 4,
      lease: 600,
      name: `w${n}`,
    })
    // A supervisor: each worker that dies is replaced, up to a bound the test would fail past.
    let deaths = 0
    let finished: Promise<unknown> | undefined
    for (let n = 1; n <= 8 && finished === undefined; n++) {
      const child = fork(WORKER, [JSON.stringify(config(n))], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      children.add(child)
      const end = await new Promise<{ signal: NodeJS.Signals | null; outcome?: unknown }>((resolve) => {
        let outcome: unknown
        child.on('message', (m: { type: string; outcome: unknown }) => {
          if (m.type === 'done') outcome = m.outcome
        })
        child.once('exit', (_code, signal) => resolve({ signal, outcome }))
      })
      children.delete(child)
      if (end.signal === 'SIGKILL') deaths++
      else finished = Promise.resolve(end.outcome)
    }
    expect(await finished).toMatchObject({ complete: true })
    expect(deaths).toBe(3)
    const status = await jobStatus(where)
    expect(status).toMatchObject({ state: 'complete', done: LINES, ok: LINES - 1, failed: 1 })
    const results: [number, string][] = []
    for await (const { line, result } of collectJob(where)) results.push([line, result])
    expect(results.map(([line]) => line)).toEqual(Array.from({ length: LINES }, (_, i) => i + 1))
    for (const [line, result] of results) {
      if (line === POISON) expect(JSON.parse(result)).toMatchObject({ error: { code: 'POISON_LINE' } })
      else expect(result).toBe(`${line}:item ${line}`)
    }
    expect(await outside().exists(key(where.job, 'suspects'))).toBe(0)
  })
})
