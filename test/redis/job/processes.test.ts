import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer, request as forward } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { entryHash } from '../../../src/cli/fingerprint.js'
import { type MockServer, type MockServerOptions, startMockServer } from '../../../src/mock/index.js'
import { type JobStatus, jobStatus, type WorkerStatus } from '../../../src/redis/job/status.js'
import {
  type CliRun,
  expectEachLineOnce,
  killChildren,
  type OutputLine,
  readOutput,
  runCli,
  type Spawned,
  spawnCli,
  tempDir,
  waitFor,
} from '../../cli/helpers.js'
import { closedPort, connectRedis, deletePrefix, REDIS_URL } from '../helpers.js'
import { delay } from '../workers.js'

// Issue 15's "must show": one job worked by several `volley work` processes (the built CLI, real
// processes), with workers SIGKILLed, frozen with SIGSTOP past their lease, and Redis killed under
// them, with and without its data. Every line's result is checked in the collected file (each line
// once, in order, with the hash of its input line), and the shared rate at the mock's side.

const tmp = tempDir()
let redis: Redis
let mock: MockServer | undefined
/** Jobs on the suite's Redis, whose keys (and limiter keys, named after the job) go afterwards. */
const jobs: string[] = []
/** redis-server children this file started. */
const servers = new Set<ChildProcess>()
/** What a test started besides those: stopped after it. */
const stops: (() => Promise<void>)[] = []

beforeAll(async () => {
  redis = await connectRedis()
})

afterEach(async () => {
  killChildren()
  await mock?.close()
  mock = undefined
  for (const stop of stops.splice(0)) await stop()
})

afterAll(async () => {
  killChildren()
  for (const server of servers) server.kill('SIGKILL')
  for (const job of jobs) {
    await deletePrefix(redis, `volley:job:{${job}}:`)
    await deletePrefix(redis, `volley:{${job}}:`)
  }
  redis.disconnect()
  tmp.remove()
})

const newJob = () => {
  const job = `t-${randomBytes(6).toString('hex')}`
  jobs.push(job)
  return job
}

async function startMock(options: MockServerOptions): Promise<MockServer> {
  mock = await startMockServer(options)
  return mock
}

/** A request a proxy forwarded: its path, when it came, and when its answer began to be written back. */
interface Forwarded {
  path: string
  at: number
  answered?: number
}

/**
 * A loopback proxy in front of `target` that notes each request it forwards (one connection each to
 * the target, so no idle one closing under a request). Stopped with the test.
 */
async function forwardLog(target: string): Promise<{ url: string; seen: Forwarded[] }> {
  const seen: Forwarded[] = []
  const server = createServer((req, res) => {
    const entry: Forwarded = { path: req.url!, at: performance.now() }
    seen.push(entry)
    const upstream = forward(
      new URL(req.url!, target),
      { method: req.method, headers: req.headers, agent: false },
      (answer) => {
        // Before its bytes go out: an answer noted after a moment was not read before it.
        entry.answered = performance.now()
        res.writeHead(answer.statusCode!, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stops.push(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

/** An input file of `total` lines: `/items/<n>`, and with `posts`, every fifth line a POST. */
function inputFile(name: string, total: number, posts = false): { path: string; lines: string[] } {
  const lines = Array.from({ length: total }, (_, i) =>
    posts && (i + 1) % 5 === 0
      ? JSON.stringify({ url: '/anything/orders', json: { line: i + 1 } })
      : `/items/${i + 1}`,
  )
  return { path: tmp.file(name, `${lines.join('\n')}\n`), lines }
}

/** The hash `volley run` (and so `volley work`) writes for the input line `text`, line `n`. */
const hashOf = (text: string, n: number) =>
  entryHash({ line: n, spec: text.startsWith('{') ? JSON.parse(text) : text })

/**
 * Collects the job with `volley collect` and checks the file: the job's line first, then one record
 * per input line, in input order, each with the hash of its own input line.
 */
async function collectOnce(job: string, url: string, lines: readonly string[]): Promise<OutputLine[]> {
  const out = `${tmp.dir}/${job}.results.jsonl`
  const collected = await runCli(['collect', '--job', job, '--redis', url, '--out', out])
  expect(collected.code, collected.stderr).toBe(0)
  expect(JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!)).toEqual({ job })
  const records = readOutput(out)
  expect(records.map((r) => r.index)).toEqual(lines.map((_, i) => i + 1))
  expectEachLineOnce(records, lines.length)
  const wrongHash = records.filter((record) => record.hash !== hashOf(lines[record.index - 1]!, record.index))
  expect(wrongHash).toEqual([])
  return records
}

function submit(job: string, url: string, input: string): Promise<CliRun> {
  return runCli(['submit', input, '--job', job, '--redis', url])
}

/** A worker that ended as asked, and printed no warning of Node's (a listener count past 10, say). */
function expectExit(run: CliRun, code: number): void {
  expect(run.code, run.stderr).toBe(code)
  expect(run.stderr).not.toMatch(/Warning/)
}

function work(job: string, url: string, args: readonly string[]): Spawned {
  return spawnCli(['work', '--job', job, '--redis', url, '--progress-interval', '500ms', ...args])
}

/** A worker's entry in the job's status: its name is `<host>-<pid>-<random>`. */
function workerOf(status: JobStatus, child: ChildProcess): WorkerStatus | undefined {
  return status.workers.find((w) => w.name.split('-').at(-2) === String(child.pid))
}

/** Polls the job's status until `check` holds (bounded: a limit on a slow machine, not a timing assertion). */
async function statusWhen(
  job: string,
  url: string,
  check: (status: JobStatus) => boolean,
  what: string,
  ms = 30_000,
): Promise<JobStatus> {
  const deadline = performance.now() + ms
  for (;;) {
    const status = await jobStatus({ job, url })
    if (check(status)) return status
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`)
    await delay(50)
  }
}

/** The lines a worker holds (claimed, no result recorded yet): its entries pending in the job's stream. */
async function pendingOf(client: Redis, job: string, worker: string): Promise<number[]> {
  const pending = (await client.xpending(
    `volley:job:{${job}}:lines`,
    'workers',
    '-',
    '+',
    10_000,
    worker,
  )) as [string, ...unknown[]][]
  return pending.map(([id]) => Number(id.split('-')[0]))
}

/** What a running worker has written to stderr so far (read while it runs; `done` has it all at the end). */
function stderrOf(spawned: Spawned): () => string {
  let text = ''
  spawned.child.stderr!.on('data', (chunk: string) => (text += chunk))
  return () => text
}

describe('one job, four `volley work` processes, one SIGKILLed and one started late', () => {
  it('ends with every line once, in order; the killed worker’s lines are taken over; the shared rate holds at the mock', async () => {
    const total = 3000
    const rate = 250
    // The mock enforces the same quota the workers share: any window the workers overran would be
    // answered 429 (and counted), and its arrivals counted past the rate.
    const server = await startMock({
      rate: `${rate}/s`,
      statsWindow: 1000,
      faults: { 500: 0.01, reset: 0.01 },
      seed: 15,
    })
    const job = newJob()
    const { path, lines } = inputFile('four.jsonl', total)
    const submitted = await submit(job, REDIS_URL, path)
    expect(submitted.code, submitted.stderr).toBe(0)
    // Four processes' requests reach the mock with different delays (their own event loops and
    // Redis round trips on a loaded 2-core box): the margin keeps the window's count under the quota.
    const flags = [
      '--base-url',
      server.url,
      '--rate',
      `${rate}/s`,
      '--rate-margin',
      '100ms',
      '--concurrency',
      '16',
      '--lease',
      '1s',
    ]
    const first = [work(job, REDIS_URL, flags), work(job, REDIS_URL, flags)]
    const victim = work(job, REDIS_URL, flags)

    // Killed once it has recorded lines and holds more (a count, not a timer: mid-run however slow the machine).
    const before = await statusWhen(
      job,
      REDIS_URL,
      (s) => (workerOf(s, victim.child)?.done ?? 0) >= 150 && (workerOf(s, victim.child)?.claimed ?? 0) > 0,
      'the victim to record 150 lines and hold more',
    )
    const victimName = workerOf(before, victim.child)!.name
    victim.child.kill('SIGKILL')
    expect((await victim.done).signal).toBe('SIGKILL')
    const held = await pendingOf(redis, job, victimName)
    expect(held.length).toBeGreaterThan(0)

    // The late one joins once the others have done a good part of the job.
    await statusWhen(job, REDIS_URL, (s) => s.done >= 900, '900 lines done')
    const late = work(job, REDIS_URL, flags)
    const runs = await Promise.all([...first, late].map((w) => w.done))
    for (const run of runs) expectExit(run, 0)
    for (const run of runs) expect(run.stderr).toMatch(new RegExp(`job ${job} is complete`))

    const status = await jobStatus({ job, url: REDIS_URL })
    expect(status).toMatchObject({ state: 'complete', total, done: total, claimed: 0 })
    expect(status.ok + status.failed).toBe(total)
    // Every line the dead worker held went to another worker (a lapsed lease is the only way a line moves).
    expect(status.takenOver).toBeGreaterThanOrEqual(held.length)
    expect(workerOf(status, victim.child)).toMatchObject({ alive: false, left: false })
    expect(workerOf(status, late.child)!.done).toBeGreaterThan(0)

    const records = await collectOnce(job, REDIS_URL, lines)
    expect(records.filter((r) => r.ok).length).toBe(status.ok)

    // At the mock: no request refused for the rate, and never more than the quota in any 1 s.
    const stats = server.stats()
    expect(stats.rateLimited).toBe(0)
    expect(stats.byStatus['429']).toBeUndefined()
    expect(stats.maxWindowArrivals).toBeLessThanOrEqual(rate)
    // The faults happened and were retried (2% of 3,000+ requests).
    expect(stats.resets + (stats.byStatus['500'] ?? 0)).toBeGreaterThan(0)
  }, 90_000)
})

describe('a worker frozen with SIGSTOP past its lease', () => {
  it('loses its lines to the others; once continued it sends none of the lines it had not started, and its late results count as duplicates, not recorded twice', async () => {
    const total = 600
    // Slow answers: the frozen worker holds requests in flight, whose answers it reads after SIGCONT.
    const server = await startMock({ latency: 200 })
    // Each through a proxy of its own, which tells the frozen worker's requests from the others'
    // (the limit is shared all the same: its key is the job's, whatever the base URL).
    const [othersLog, frozenLog] = [await forwardLog(server.url), await forwardLog(server.url)]
    const job = newJob()
    const { path, lines } = inputFile('frozen.jsonl', total)
    expect((await submit(job, REDIS_URL, path)).code).toBe(0)
    const flags = (base: string) => ['--base-url', base, '--concurrency', '24', '--lease', '1s']
    const others = [work(job, REDIS_URL, flags(othersLog.url)), work(job, REDIS_URL, flags(othersLog.url))]
    const frozen = work(job, REDIS_URL, flags(frozenLog.url))
    const frozenErr = stderrOf(frozen)

    const before = await statusWhen(
      job,
      REDIS_URL,
      (s) => (workerOf(s, frozen.child)?.done ?? 0) >= 30 && (workerOf(s, frozen.child)?.claimed ?? 0) > 0,
      'the frozen worker to record 30 lines and hold more',
    )
    const name = workerOf(before, frozen.child)!.name
    frozen.child.kill('SIGSTOP')
    // Taken after the signal: this process may be descheduled between the two, while the worker runs on.
    const frozenAt = performance.now()
    // A batch of results it had already sent is recorded by Redis in a moment; what it holds after that stays held.
    await delay(200)
    const held = await pendingOf(redis, job, name)
    expect(held.length).toBeGreaterThan(0)

    // Its lease lapses; the others take its lines and record every one of them while it is frozen.
    await statusWhen(job, REDIS_URL, (s) => s.takenOver >= held.length, 'its lines to be taken over')
    const results = `volley:job:{${job}}:results`
    for (let i = 0; ; i++) {
      const recorded = await redis.hmget(results, ...held.map(String))
      if (recorded.every((r) => r !== null)) break
      if (i === 600) throw new Error(`lines ${held} not recorded by the others`)
      await delay(50)
    }
    const thawedAt = performance.now()
    frozen.child.kill('SIGCONT')

    const runs = await Promise.all([...others, frozen].map((w) => w.done))
    for (const run of runs) expectExit(run, 0)
    expect(frozenErr()).toMatch(
      /silent for longer than its lease \([\d.]+s\): \d+ of its lines were taken over by others/,
    )
    expect(frozenErr()).toMatch(new RegExp(`job ${job} is complete`))

    const status = await jobStatus({ job, url: REDIS_URL })
    expect(status).toMatchObject({ state: 'complete', done: total, claimed: 0 })
    // Its handles under way when frozen end after SIGCONT, after the others had recorded their
    // lines: each a duplicate, counted and not kept, so at most the lines it held. They are at most
    // --concurrency (24): those on the wire, and those its client had not written yet (waiting for
    // a shared slot), which go out after the thaw. The lines it had claimed and not started are
    // never sent: Redis says they are no longer its own before it starts them. So of its requests,
    // those still unanswered at the freeze plus those for held lines after the thaw are at most 24.
    const thawed = workerOf(status, frozen.child)!
    expect(thawed.duplicates).toBeGreaterThan(0)
    expect(thawed.duplicates).toBeLessThanOrEqual(held.length)
    expect(status.duplicates).toBe(thawed.duplicates)
    expect(server.stats().requests).toBe(total + status.duplicates)
    expect(othersLog.seen.length + frozenLog.seen.length).toBe(total + status.duplicates)
    // Nothing is sent while it is stopped: what came before the thaw was sent before the freeze.
    const onTheWire = frozenLog.seen.filter(
      (r) => r.at < thawedAt && (r.answered === undefined || r.answered >= frozenAt),
    )
    const heldPaths = new Set(held.map((line) => `/items/${line}`))
    const heldAfterThaw = frozenLog.seen.filter((r) => r.at >= thawedAt && heldPaths.has(r.path))
    // Its lines, not its requests: a request it had to send again (a connection reset) is one handle.
    expect(new Set([...onTheWire, ...heldAfterThaw].map((r) => r.path)).size).toBeLessThanOrEqual(24)
    expect(runs[2]!.stderr).toMatch(/and ran \d+ another worker had recorded first/)
    await collectOnce(job, REDIS_URL, lines)
  }, 90_000)
})

describe('Redis killed under the workers', () => {
  let port: number
  let server: ChildProcess | undefined

  beforeAll(async () => {
    port = await closedPort()
  })

  afterEach(async () => {
    await stopRedis()
  })

  async function startRedis(args: readonly string[]): Promise<string> {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], {
      stdio: 'ignore',
    })
    servers.add(child)
    child.once('exit', () => servers.delete(child))
    server = child
    const url = `redis://127.0.0.1:${port}`
    for (let attempt = 0; ; attempt++) {
      try {
        ;(await connectRedis(url)).disconnect()
        return url
      } catch (error) {
        if (attempt === 50) throw error
        await delay(100)
      }
    }
  }

  async function stopRedis(): Promise<void> {
    const child = server
    server = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  it('without persistence: the workers say Redis is away, then that the job is gone (exit 1); submitted again, it completes', async () => {
    const noData = ['--save', '', '--appendonly', 'no']
    const url = await startRedis(noData)
    const total = 400
    const mockServer = await startMock({ latency: { min: 1, max: 5 } })
    const job = newJob()
    const { path, lines } = inputFile('lost.jsonl', total, true)
    expect((await submit(job, url, path)).code).toBe(0)
    const flags = ['--base-url', mockServer.url, '--rate', '100/s', '--lease', '2s']
    const workers = [work(job, url, flags), work(job, url, flags)]
    const errs = workers.map(stderrOf)
    await statusWhen(job, url, (s) => s.done >= 60, '60 lines done')

    // What was collected before the restart stays in that file.
    const early = `${tmp.dir}/${job}.early.jsonl`
    const partial = await runCli(['collect', '--job', job, '--redis', url, '--out', early])
    expect(partial.code).toBe(1)
    expect(partial.stderr).toMatch(/is not done: wrote the \d+ result\(s\) recorded so far, of 400/)
    const before = readOutput(early)
    expect(before.length).toBeGreaterThanOrEqual(60)
    expect(new Set(before.map((r) => r.index)).size).toBe(before.length)

    await stopRedis()
    await waitFor(
      () => errs.every((e) => /is unreachable/.test(e())),
      20_000,
      'both workers to see Redis away',
    )
    await startRedis(noData)
    const runs = await Promise.all(workers.map((w) => w.done))
    for (const run of runs) {
      expectExit(run, 1)
      // First Redis away, then (once it answers, empty) the job gone.
      const away = run.stderr.search(/unreachable.*: waiting for it, starting nothing/)
      const gone = run.stderr.indexOf(
        `job ${job} is not in Redis at ${url}: it expired, or Redis restarted without persistence and lost it; submit it again, then run the workers`,
      )
      expect(away).toBeGreaterThanOrEqual(0)
      expect(gone).toBeGreaterThan(away)
    }
    // Nothing of the job came back: no worker wrote its keys into the empty Redis.
    const fresh = await connectRedis(url)
    expect(await fresh.keys('volley:job:*')).toEqual([])
    fresh.disconnect()

    const again = await submit(job, url, path)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(new RegExp(`queued ${total} line\\(s\\)`))
    const second = await Promise.all([work(job, url, flags), work(job, url, flags)].map((w) => w.done))
    for (const run of second) expectExit(run, 0)
    const records = await collectOnce(job, url, lines)

    // The lines run before the restart ran again with the same Idempotency-Keys (they derive from
    // the job's name and the line): the API saw no key the final results do not carry.
    const posts = records.filter((r) => r.index % 5 === 0)
    const keys = posts.map((r) => r.json.headers['idempotency-key'] as string)
    expect(new Set(keys).size).toBe(total / 5)
    const seen = mockServer.stats().idempotencyKeys
    expect(Object.keys(seen).sort()).toEqual([...keys].sort())
    const rerun = before.filter((r) => r.index % 5 === 0)
    expect(rerun.length).toBeGreaterThan(0)
    for (const post of rerun) {
      expect(post.json.headers['idempotency-key']).toBe(keys[post.index / 5 - 1])
      expect(seen[post.json.headers['idempotency-key']]).toBeGreaterThanOrEqual(2)
    }
  }, 90_000)

  it('with its data (AOF, fsync always): the workers wait while Redis is away, start nothing, and go on; the job completes once per line', async () => {
    const dir = `${tmp.dir}/aof-${randomBytes(4).toString('hex')}`
    mkdirSync(dir)
    const persistent = ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]
    const url = await startRedis(persistent)
    const total = 400
    const mockServer = await startMock({ latency: { min: 1, max: 5 }, recordArrivals: true })
    const job = newJob()
    const { path, lines } = inputFile('kept.jsonl', total)
    expect((await submit(job, url, path)).code).toBe(0)
    const flags = ['--base-url', mockServer.url, '--rate', '100/s', '--lease', '10s']
    const workers = [work(job, url, flags), work(job, url, flags)]
    const errs = workers.map(stderrOf)
    await statusWhen(job, url, (s) => s.done >= 60, '60 lines done')

    await stopRedis()
    const killedAt = performance.now()
    await waitFor(
      () => errs.every((e) => /is unreachable/.test(e())),
      20_000,
      'both workers to see Redis away',
    )
    // Away a little longer: each worker asks again every second, and starts nothing meanwhile.
    await delay(1500)
    const restartAt = performance.now()
    await startRedis(persistent)
    await waitFor(() => errs.every((e) => /Redis answers again/.test(e())), 20_000, 'both workers to go on')

    const runs = await Promise.all(workers.map((w) => w.done))
    for (const run of runs) expectExit(run, 0)
    const status = await jobStatus({ job, url })
    expect(status).toMatchObject({ state: 'complete', done: total, claimed: 0 })
    await collectOnce(job, url, lines)
    // While Redis was away no request reached the API (but ones granted just before, still on their way).
    const during = mockServer.arrivals().all.filter((at) => at >= killedAt + 200 && at < restartAt)
    expect(during).toEqual([])
  }, 90_000)
})
