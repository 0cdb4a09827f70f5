import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net'
import { RateWindow } from '../../src/mock/windows.js'

import type { TestContext } from 'vitest'
import { quotaUse } from '../../src/mock/quota-use.js'
import { maxInWindow } from './clock.js'

/**
 * Servers that judge a client's rate where the API counts it: at the arrival of each request. Both
 * run in the test's process, on loopback, so their timestamps share the client's event loop.
 */

export interface Arrival {
  /** performance.now() when the request handler ran. */
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
  stats(): ExactServerStats
  /** Closes the keep-alive connections with no request in flight, as a server does when it sheds idle ones. */
  closeIdleConnections(): void
  close(): Promise<void>
}

export interface ExactServerOptions {
  limit: number
  windowMs: number
  /** Ms before each accepted request is answered. @default 0 */
  delayMs?: number
  /** Serve https with this key and certificate (the URL then names 127.0.0.1, which the test certificate covers). */
  tls?: { key: string; cert: string }
  /** Announce the quota on every response, in this dialect (see `announcement`). @default none */
  announce?: Dialect
  /**
   * Count in fixed windows, as GitHub does, instead of a sliding one: a window opens at the first
   * arrival after the last one closed, at the start of the wall-clock second it falls in (so it
   * ends on the epoch second its reset announces), and admits `limit` until it ends. @default false
   */
  fixed?: boolean
}

/** What the server counts arrivals in: RateWindow (sliding) or FixedWindow. */
interface ArrivalWindow {
  remaining(at: number): number
  /** Ms until a slot frees: the oldest arrival leaves a sliding window; a fixed one resets whole. */
  nextFreeIn(at: number): number
  record(at: number): void
}

/** GitHub's count (see ExactServerOptions.fixed); times are performance.now(). */
class FixedWindow implements ArrivalWindow {
  readonly #limit: number
  readonly #windowMs: number
  #start = Number.NEGATIVE_INFINITY
  #used = 0

  constructor(limit: number, windowMs: number) {
    this.#limit = limit
    this.#windowMs = windowMs
  }

  remaining(at: number): number {
    if (at >= this.#start + this.#windowMs) {
      this.#start = Math.floor((performance.timeOrigin + at) / 1000) * 1000 - performance.timeOrigin
      this.#used = 0
    }
    return this.#limit - this.#used
  }

  nextFreeIn(at: number): number {
    return this.#start + this.#windowMs - at
  }

  record(): void {
    this.#used++
  }
}

/** The header dialects an ExactServer can speak. */
export type Dialect = 'ietf' | 'openai' | 'anthropic' | 'shopify' | 'github' | 'x' | 'discord'

/**
 * What a server speaking `dialect` says of a quota of `limit` per `windowMs` with `remaining` left.
 * `freeIn` is when the next slot frees; `wholeIn` when all are free again. The LLM vendors state the
 * latter as a continuous refill would reach it (used x window / limit), as their token buckets do.
 */
function announcement(
  dialect: Dialect,
  {
    limit,
    windowMs,
    remaining,
    freeIn,
    wallNow,
  }: { limit: number; windowMs: number; remaining: number; freeIn: number; wallNow: number },
): Record<string, string> {
  const refilledIn = ((limit - remaining) * windowMs) / limit
  switch (dialect) {
    case 'ietf':
      return {
        'ratelimit-policy': `"default";q=${limit};w=${windowMs / 1000}`,
        ratelimit: `"default";r=${remaining};t=${Math.ceil(freeIn / 1000)}`,
      }
    case 'openai':
      return {
        'x-ratelimit-limit-requests': String(limit),
        'x-ratelimit-remaining-requests': String(remaining),
        'x-ratelimit-reset-requests': `${Math.ceil(refilledIn)}ms`,
      }
    case 'anthropic':
      return {
        'anthropic-ratelimit-requests-limit': String(limit),
        'anthropic-ratelimit-requests-remaining': String(remaining),
        'anthropic-ratelimit-requests-reset': new Date(wallNow + refilledIn).toISOString(),
      }
    case 'shopify':
      return { 'x-shopify-shop-api-call-limit': `${limit - remaining}/${limit}` }
    case 'github':
      return {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-used': String(limit - remaining),
        // Whole epoch seconds: a fixed window's end is one (less float noise), a sliding one's is rounded up.
        'x-ratelimit-reset': String(Math.ceil((wallNow + freeIn) / 1000 - 1e-6)),
        'x-ratelimit-resource': 'core',
      }
    case 'x':
      // X (Twitter) API v2: epoch seconds, as GitHub, under its own prefix.
      return {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(remaining),
        'x-rate-limit-reset': String(Math.ceil((wallNow + freeIn) / 1000 - 1e-6)),
      }
    case 'discord':
      // Discord: the reset also as seconds from now with decimals, and the bucket it counts in.
      return {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': ((wallNow + freeIn) / 1000).toFixed(3),
        'x-ratelimit-reset-after': (freeIn / 1000).toFixed(3),
        'x-ratelimit-bucket': 'abcd1234',
      }
  }
}

const GITHUB_EXCEEDED = JSON.stringify({ message: 'API rate limit exceeded for 127.0.0.1.' })

/**
 * An API that enforces `limit` arrivals per sliding window of `windowMs` exactly, on arrival: a
 * request that would make more than `limit` accepted arrivals in (t - windowMs, t] is refused with
 * 429 and Retry-After (whole seconds until a slot frees, rounded up). A refused arrival does not
 * count, as with the mock and most real APIs: token and leaky buckets (Shopify's REST bucket, AWS API
 * Gateway, nginx limit_req) take nothing for a request they refuse, so a client that waits
 * Retry-After finds room. Some count refusals too (a Redis sorted-set log that adds before it counts;
 * Discord bans an IP after 10,000 401/403/429 answers in 10 minutes): there a refusal costs more,
 * which the count of refusals asserted here already rules out. With `fixed`, windows are fixed (see
 * ExactServerOptions.fixed), and `maxInWindow` may reach 2 x limit across a reset, as GitHub allows.
 */
export async function startExactServer({
  limit,
  windowMs,
  delayMs = 0,
  tls,
  announce,
  fixed = false,
}: ExactServerOptions): Promise<ExactServer> {
  const window: ArrivalWindow = fixed
    ? new FixedWindow(limit, windowMs)
    : new RateWindow({ limit, interval: windowMs })
  const arrivals: Arrival[] = []
  const quota = (at: number): Record<string, string> =>
    announce
      ? announcement(announce, {
          limit,
          windowMs,
          remaining: window.remaining(at),
          freeIn: window.nextFreeIn(at),
          wallNow: performance.timeOrigin + at,
        })
      : {}
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const at = performance.now()
    req.resume()
    if (window.remaining(at) > 0) {
      window.record(at)
      arrivals.push({ at, status: 200 })
      const headers = { 'content-type': 'application/json', ...quota(at) }
      setTimeout(() => res.writeHead(200, headers).end('{}'), delayMs)
      return
    }
    if (announce === 'github') {
      // GitHub's primary limit: 403, remaining 0, no Retry-After (the client waits for the reset).
      arrivals.push({ at, status: 403 })
      res.writeHead(403, { 'content-type': 'application/json', ...quota(at) }).end(GITHUB_EXCEEDED)
      return
    }
    arrivals.push({ at, status: 429 })
    const retryAfter = Math.ceil(window.nextFreeIn(at) / 1000)
    res
      .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter), ...quota(at) })
      .end('{}')
  }
  const server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    stats: () => {
      const acceptedTimes = arrivals.filter((a) => a.status === 200).map((a) => a.at)
      return {
        arrivals: [...arrivals],
        refused: arrivals.length - acceptedTimes.length,
        maxInWindow: maxInWindow(acceptedTimes, windowMs),
        acceptedTimes,
      }
    },
    closeIdleConnections: () => server.closeIdleConnections(),
    close,
    [Symbol.asyncDispose]: close,
  }
}

export interface ConnectDelayProxy extends AsyncDisposable {
  /** The target's URL with the proxy's port: same scheme, so https goes through it end to end. */
  url: string
  /** Client connections open now (accepted, not yet closed). */
  open(): number
  close(): Promise<void>
}

/**
 * A TCP proxy that holds every new connection for `connectDelayMs` before connecting it to
 * `target` and piping both ways; what the client sent meanwhile waits, paused, and follows. It
 * stands for a far API's handshake. Plain TCP cannot hold the client's own connect (the kernel
 * completes it at once), so over http the client sees a connected socket whose first request is
 * slow; over https (a `tls` ExactServer behind it) the ClientHello waits, so the client's socket
 * is connected only after the delay, as against a real far API.
 */
export async function startConnectDelayProxy({
  target,
  connectDelayMs,
}: {
  target: string
  connectDelayMs: number
}): Promise<ConnectDelayProxy> {
  const to = new URL(target)
  const clients = new Set<Socket>()
  const upstreams = new Set<Socket>()
  const track = (set: Set<Socket>, socket: Socket): void => {
    set.add(socket)
    socket.on('close', () => set.delete(socket))
  }
  const server = createTcpServer({ pauseOnConnect: true }, (client) => {
    track(clients, client)
    client.on('error', () => client.destroy())
    const timer = setTimeout(() => {
      const upstream = connect(Number(to.port), to.hostname, () => {
        client.pipe(upstream)
        upstream.pipe(client)
      })
      track(upstreams, upstream)
      upstream.on('error', () => upstream.destroy())
      // Either side closing ends the pair: no half-dead connection stays open.
      upstream.on('close', () => client.destroy())
      client.on('close', () => upstream.destroy())
    }, connectDelayMs)
    client.on('close', () => clearTimeout(timer))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      for (const socket of [...clients, ...upstreams]) socket.destroy()
      server.close(() => resolve())
    })
  return {
    url: `${to.protocol}//127.0.0.1:${port}`,
    open: () => clients.size,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** What the server saw, annotated on the test for comparing runs. */
export function judgeArrivals(
  context: TestContext,
  server: ExactServer,
  { limit, windowMs }: { limit: number; windowMs: number },
) {
  const stats = server.stats()
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
