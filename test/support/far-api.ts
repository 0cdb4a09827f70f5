import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'vitest'
import { quotaUse } from '../../src/mock/quota-use.js'
import { maxInWindow } from './clock.js'

/**
 * A far API that judges a client's rate where the API counts it: at the arrival of each request.
 * It runs in a process of its own (far-api-server.mjs), as a real API does: its timestamps never
 * wait for the client's event loop, so what they show is the client's sending, not its CPU.
 */

const SERVER = fileURLToPath(new URL('./far-api-server.mjs', import.meta.url))

function statsOf(arrivals: readonly Arrival[], windowMs: number): ExactServerStats {
  const acceptedTimes = arrivals.filter((a) => a.status === 200).map((a) => a.at)
  return {
    arrivals: [...arrivals],
    refused: arrivals.length - acceptedTimes.length,
    maxInWindow: maxInWindow(acceptedTimes, windowMs),
    acceptedTimes,
  }
}

export interface Arrival {
  /** performance.now() in the server's process when the request handler ran. */
  at: number
  /** 403 is how the github dialect refuses (as GitHub does), 429 the others. */
  status: 200 | 403 | 429
}

export interface ExactServerStats {
  arrivals: readonly Arrival[]
  refused: number
  /** The most accepted arrivals in any window of `windowMs`: at most `limit` by construction (sliding). */
  maxInWindow: number
  /** performance.now() of each accepted arrival, in order. */
  acceptedTimes: readonly number[]
}

export interface ExactServer extends AsyncDisposable {
  url: string
  stats(): Promise<ExactServerStats>
  /** Closes the keep-alive connections with no request in flight, as a server does when it sheds idle ones. */
  closeIdleConnections(): Promise<void>
  /** Client connections open at the proxy now (accepted, not yet closed); 0 without one. */
  openConnections(): Promise<number>
  close(): Promise<void>
}

export interface ExactServerOptions {
  limit: number
  windowMs: number
  /** Ms before each accepted request is answered. @default 0 */
  delayMs?: number
  /** Serve https with this key and certificate (the URL then names 127.0.0.1, which the test certificate covers). */
  tls?: { key: string; cert: string }
  /** Announce the quota on every response, in this dialect (see far-api-server.mjs). @default none */
  announce?: Dialect
  /**
   * Count in fixed windows, as GitHub does, instead of a sliding one: a window opens at the first
   * arrival after the last one closed, at the start of the wall-clock second it falls in (so it
   * ends on the epoch second its reset announces), and admits `limit` until it ends. @default false
   */
  fixed?: boolean
  /**
   * Put a TCP proxy in front that holds every new connection this long before connecting it, as a
   * far API's handshake does (the URL is then the proxy's). Over plain http the client cannot see
   * it (the kernel accepts at once): its first request is slow. Over https the ClientHello waits,
   * so the client's socket is connected only after the delay, as against a real far API.
   */
  connectDelayMs?: number
}

/** The header dialects an ExactServer can speak. */
export type Dialect = 'ietf' | 'openai' | 'anthropic' | 'shopify' | 'github' | 'x' | 'discord'

/**
 * Starts an API that enforces `limit` arrivals per sliding window of `windowMs` exactly, on
 * arrival: a request that would make more than `limit` accepted arrivals in (t - windowMs, t] is
 * refused with 429 and Retry-After (whole seconds until a slot frees, rounded up). A refused
 * arrival does not count, as with the mock and most real APIs: token and leaky buckets (Shopify's
 * REST bucket, AWS API Gateway, nginx limit_req) take nothing for a request they refuse, so a
 * client that waits Retry-After finds room. Some count refusals too (a Redis sorted-set log that
 * adds before it counts; Discord bans an IP after 10,000 401/403/429 answers in 10 minutes): there a
 * refusal costs more, which the count of refusals asserted here already rules out. With `fixed`,
 * windows are fixed (see ExactServerOptions.fixed), and `maxInWindow` may reach 2 x limit across a
 * reset, as GitHub allows. The process ends with the test's.
 */
export async function startExactServer(options: ExactServerOptions): Promise<ExactServer> {
  const child: ChildProcess = fork(SERVER, ['--serve', JSON.stringify(options)], { stdio: 'inherit' })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let next = 0
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const gone = new Error(`far-api-server ended (${signal ?? code}) before it answered`)
      reject(gone)
      for (const waiting of pending.values()) waiting.reject(gone)
    })
    child.on('message', (message: { type?: string; url?: string; id?: number; value?: unknown }) => {
      if (message.type === 'ready') resolve(message.url!)
      else pending.get(message.id!)?.resolve(message.value)
    })
  })
  const ask = <T>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++
      pending.set(id, {
        resolve: (value) => {
          pending.delete(id)
          resolve(value as T)
        },
        reject,
      })
      if (!child.connected) return reject(new Error('far-api-server has ended'))
      child.send({ id, type }, (error) => error && reject(error))
    })
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill()
    await exited
  }
  return {
    url,
    stats: async () => statsOf(await ask<Arrival[]>('stats'), options.windowMs),
    closeIdleConnections: () => ask('closeIdle'),
    openConnections: () => ask('open'),
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** What the server saw, annotated on the test for comparing runs. */
export async function judgeArrivals(
  context: TestContext,
  server: ExactServer,
  { limit, windowMs }: { limit: number; windowMs: number },
) {
  const stats = await server.stats()
  const first = stats.acceptedTimes[0]!
  const judged = {
    accepted: stats.acceptedTimes.length,
    refused: stats.refused,
    maxInWindow: stats.maxInWindow,
    // What the client sent, refused arrivals included: how far over the limit it went.
    maxSentInWindow: maxInWindow(
      stats.arrivals.map((a) => a.at),
      windowMs,
    ),
    quotaUse: quotaUse(stats.acceptedTimes, limit, windowMs, first + windowMs),
    refusedAfterFirstWindow: stats.arrivals.filter(
      (a) => a.status !== 200 && a.at >= stats.arrivals[0]!.at + windowMs,
    ).length,
  }
  context.annotate(
    `refused ${judged.refused}, accepted ${judged.accepted}, maxInWindow ${judged.maxInWindow} ` +
      `(sent ${judged.maxSentInWindow}) per ${windowMs} ms, quota use ${(judged.quotaUse * 100).toFixed(1)}%, ` +
      `refused after the first window ${judged.refusedAfterFirstWindow}`,
  )
  return judged
}
