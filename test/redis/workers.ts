import { type ChildProcess, fork } from 'node:child_process'
import dc from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'
import { connectRedis, deletePrefix, uniquePrefix } from './helpers.js'

const WORKER = fileURLToPath(new URL('./fixtures/redis-worker.mjs', import.meta.url))

/** What test/redis/fixtures/redis-worker.mjs is told. */
export interface WorkerConfig {
  mockUrl: string
  redisUrl: string
  prefix: string
  key: string
  rate?: string
  concurrency?: number
  leaseTtl?: number
  rateMargin?: number
  smooth?: boolean
  durationMs: number
  /** Tasks kept in the limiter at once. */
  outstanding: number
  pauseOn429?: boolean
  fault429AfterMs?: number
}

export interface WorkerResult {
  counts: {
    ok: number
    /** The arrivals tests' client worker: when it read its first answer, and when its refused attempts went out (wall ms). */
    firstAnswerAt?: number
    refusedSentAt?: number[]
    statuses: Record<string, number>
    errors: Record<string, number>
  }
  roundTrips: number
}

export interface Worker {
  child: ChildProcess
  /** The store's id: its leases in Redis are `<id>:<n>`. */
  id: string
  done: Promise<WorkerResult>
}

const children = new Set<ChildProcess>()

/**
 * Forks one worker per config and resolves once every one is connected and ready for `go`. The
 * worker is `script` (by default the limiter worker), speaking the same IPC: ready, go, done.
 */
export async function startWorkers<Config extends object = WorkerConfig>(
  configs: Config[],
  script = WORKER,
): Promise<Worker[]> {
  return Promise.all(
    configs.map(
      (config) =>
        new Promise<Worker>((resolve, reject) => {
          const child = fork(script, [JSON.stringify(config)], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          })
          children.add(child)
          child.once('exit', () => children.delete(child))
          let doneResolve!: (result: WorkerResult) => void
          const done = new Promise<WorkerResult>((res, rej) => {
            doneResolve = res
            child.once('exit', (code, signal) =>
              rej(new Error(`worker exited (${code ?? signal}) before done`)),
            )
          })
          done.catch(() => {})
          child.on('message', (message: { type: string; id?: string } & WorkerResult) => {
            if (message.type === 'ready') resolve({ child, id: message.id!, done })
            if (message.type === 'done') doneResolve(message)
          })
          child.once('error', reject)
          child.once('exit', (code, signal) =>
            reject(new Error(`worker exited (${code ?? signal}) before ready`)),
          )
        }),
    ),
  )
}

/** Starts every worker's run at (nearly) the same moment. */
export function go(workers: Worker[]): void {
  for (const worker of workers) worker.child.send({ type: 'go' })
}

/** SIGKILLs every worker still alive: for afterAll, so no test leaves a process behind. */
export function killAll(): void {
  for (const child of children) child.kill('SIGKILL')
}

/** One request as the mock's HTTP server received it, timed in this process (where the mock runs). */
export interface Arrival {
  /** performance.now() at arrival: for windows. */
  at: number
  /** Date.now() at arrival: to compare with Redis TIME, which reads the same system clock. */
  wall: number
  port: number
  url: string
  headers: IncomingMessage['headers']
}

/**
 * Records every request any HTTP server of this process receives, at the moment the server sees it
 * (Node's `http.server.request.start` diagnostics channel): arrival times measured server-side.
 */
export function recordArrivals(): { arrivals: Arrival[]; stop: () => void } {
  const arrivals: Arrival[] = []
  const onStart = (message: unknown) => {
    const { request } = message as { request: IncomingMessage }
    arrivals.push({
      at: performance.now(),
      wall: Date.now(),
      port: request.socket.localPort ?? 0,
      url: request.url ?? '',
      headers: request.headers,
    })
  }
  dc.subscribe('http.server.request.start', onStart)
  return { arrivals, stop: () => dc.unsubscribe('http.server.request.start', onStart) }
}

/** Resolves after `ms` (real time): only for pacing a scenario, never in an assertion. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * A Redis key prefix for one suite whose worker processes share limits: after the suite, the
 * workers still alive are killed and the prefix's keys deleted.
 */
export function suitePrefix(): string {
  const prefix = uniquePrefix()
  afterAll(async () => {
    killAll()
    const redis = await connectRedis()
    await deletePrefix(redis, prefix)
    redis.disconnect()
  })
  return prefix
}
