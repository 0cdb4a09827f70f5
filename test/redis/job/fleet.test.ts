import { type ChildProcess, fork } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectJob, jobStatus, submitJob, type WorkOutcome } from '../../../src/redis/index.js'
import { connectRedis, deletePrefix, REDIS_URL, uniquePrefix } from '../helpers.js'

/*
 * A fleet on one job: 10 processes × 10 workJob consumers on 20,000 lines, each a GET of a loopback
 * server started here; 2 processes SIGKILLed mid-run, with a 1 s lease. What the job queue
 * guarantees, whatever the timing: every line's result recorded exactly once (the first), the dead
 * consumers' lines taken over by the live ones, the job complete. Nothing here asserts a duration.
 */

const WORKER = fileURLToPath(new URL('../fixtures/job-fleet-worker.mjs', import.meta.url))
const PROCESSES = 10
const CONSUMERS = 10
const CONCURRENCY = 4
const LINES = 10_000
const KILLED = 2
const LEASE_MS = 1_000

const prefix = uniquePrefix()
const children = new Set<ChildProcess>()
let redis: Redis
let server: Server
let serverUrl: string
/** How many times the server was asked for each line. */
const asked = new Uint16Array(LINES + 1)

beforeAll(async () => {
  redis = await connectRedis()
  server = createServer((req, res) => {
    const n = Number(req.url?.slice('/lines/'.length))
    if (Number.isInteger(n) && n >= 1 && n <= LINES) asked[n]!++
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(`line ${n}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await deletePrefix(redis, prefix)
  redis.disconnect()
})

interface FleetProcess {
  name: string
  child: ChildProcess
  /** Its consumers' outcomes once they all resolved; rejects if the process dies first. */
  done: Promise<WorkOutcome[]>
}

function startProcess(job: string, index: number): Promise<FleetProcess> {
  const name = `p${index}`
  const config = {
    job,
    name,
    prefix,
    redisUrl: REDIS_URL,
    serverUrl,
    consumers: CONSUMERS,
    concurrency: CONCURRENCY,
    lease: LEASE_MS,
  }
  const child = fork(WORKER, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.add(child)
  child.once('exit', () => children.delete(child))
  const done = new Promise<WorkOutcome[]>((resolve, reject) => {
    child.on('message', (m: { type: string; outcomes?: WorkOutcome[] }) => {
      if (m.type === 'done') resolve(m.outcomes!)
    })
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before done`)))
  })
  done.catch(() => {})
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type: string }) => {
      if (m.type === 'ready') resolve({ name, child, done })
    })
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before ready`)))
  })
}

describe('a fleet of 10 processes × 10 consumers on one job', () => {
  it('records every line exactly once and completes when 2 processes are SIGKILLed mid-run', async () => {
    const job = 'fleet'
    const where = { job, url: REDIS_URL, prefix }
    const keys = { lines: `${prefix}job:{${job}}:lines`, results: `${prefix}job:{${job}}:results` }
    await submitJob({ ...where, lines: Array.from({ length: LINES }, (_, i) => String(i + 1)) })

    const fleet = await Promise.all(Array.from({ length: PROCESSES }, (_, p) => startProcess(job, p)))
    for (const { child } of fleet) child.send({ type: 'go' })

    // Mid-run: once 30% of the lines have a result, the last two processes die without a word.
    while ((await redis.hlen(keys.results)) < 0.3 * LINES) await new Promise((r) => setTimeout(r, 20))
    const victims = fleet.slice(-KILLED)
    for (const { child } of victims) child.kill('SIGKILL')
    const [, , , pending] = (await redis.xpending(keys.lines, 'workers')) as [
      number,
      string,
      string,
      [string, string][] | null,
    ]
    const held = (pending ?? [])
      .filter(([consumer]) => victims.some((v) => consumer.startsWith(`${v.name}-`)))
      .reduce((sum, [, count]) => sum + Number(count), 0)
    // The dead held lines when they died: the live consumers must take those over.
    expect(held).toBeGreaterThan(0)

    const survivors = await Promise.all(fleet.slice(0, -KILLED).map((p) => p.done))
    for (const outcomes of survivors) {
      expect(outcomes).toHaveLength(CONSUMERS)
      for (const outcome of outcomes) expect(outcome).toMatchObject({ complete: true, unrecorded: 0 })
    }

    const status = await jobStatus(where)
    expect(status).toMatchObject({
      state: 'complete',
      total: LINES,
      done: LINES,
      ok: LINES,
      failed: 0,
      claimed: 0,
    })
    expect(status.takenOver).toBeGreaterThan(0)
    // Every result is counted once, to the consumer that recorded it first, the dead ones included.
    expect(status.workers.reduce((sum, w) => sum + w.done, 0)).toBe(LINES)
    expect(status.workers.length).toBe(PROCESSES * CONSUMERS)

    // collect: each line once, in order, its own result.
    let expected = 1
    const wrong: string[] = []
    for await (const { line, result } of collectJob(where)) {
      if (line !== expected || result !== `${line}:line ${line}`) wrong.push(`${expected}: ${line} ${result}`)
      expected = line + 1
    }
    expect(wrong.slice(0, 5)).toEqual([])
    expect(expected - 1).toBe(LINES)
    // The server saw every line (some twice: those the dead had sent but not recorded).
    expect(asked.subarray(1).every((n) => n >= 1)).toBe(true)
    // No line was run more often than the takeovers and duplicates allow.
    const extra = asked.subarray(1).reduce((sum, n) => sum + n - 1, 0)
    expect(extra).toBeLessThanOrEqual(status.takenOver + status.duplicates)
  }, 60_000)
})
