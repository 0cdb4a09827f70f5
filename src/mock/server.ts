import { timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import { InvalidOptionError } from '../errors.js'
import { systemClock } from '../limit/clock.js'
import { createChoices, forcedDelay, forcedFault } from './choices.js'
import { JSON_TYPE, MockExchange, writeBody } from './exchange.js'
import type { MockContext } from './handler.js'
import { holdConnections } from './hold.js'
import { JobStore } from './jobs.js'
import {
  type FaultKind,
  type MockServerOptions,
  type ResolvedMockOptions,
  resolveMockOptions,
} from './options.js'
import { createQuota } from './profiles/create.js'
import type { TokenCost } from './profiles/quota.js'
import { matchRoute, type RouteMatch, UNMATCHED } from './routes.js'
import { type MockArrivals, type MockStats, StatsRecorder } from './stats.js'
import { createWireServer, type MockRequest, type MockResponse } from './wire.js'

/** A running mock API. */
export interface MockServer extends AsyncDisposable {
  /** 'http://127.0.0.1:<port>' ('https://' with `tls`), without a trailing slash. */
  readonly url: string
  readonly port: number
  /** The seed in use (the one given, or the random one drawn): pass it back to replay a run. */
  readonly seed: number
  /** The options in force, validated and filled in. */
  readonly options: ResolvedMockOptions
  /** What the server saw so far; the same shape as GET /__stats. */
  stats(): MockStats
  /**
   * When each request arrived, since the start or the last reset, in ms of performance.now() in
   * the server's process. Needs the `recordArrivals` option (throws an InvalidOptionError without it).
   */
  arrivals(): MockArrivals
  /** Zeroes the counters (also DELETE /__stats) and the recorded arrivals; the rate window and jobs are kept. */
  resetStats(): void
  /** Stops listening and destroys every connection (HTTP/2 sessions too), hung and keep-alive ones included. */
  close(): Promise<void>
}

/** The stats endpoint: never limited, faulted, delayed, authenticated or counted. */
export const STATS_PATH = '/__stats'

/** Starts the mock API; resolves once it listens. Invalid options throw an InvalidOptionError. */
export async function startMockServer(options?: MockServerOptions): Promise<MockServer> {
  const resolved = resolveMockOptions(options)
  const clock = systemClock
  const stats = new StatsRecorder(resolved.statsWindow, resolved.recordArrivals)
  const quota = createQuota(resolved.profile, resolved.rates)
  const choices = createChoices(resolved.faults, resolved.latency, resolved.seed)
  const jobs = new JobStore(resolved.jobDuration)
  const context: MockContext = { options: resolved, stats, jobs, clock, choices }
  const sockets = new Set<Socket>()
  let closing: Promise<void> | undefined
  const serverClosing = () => closing !== undefined

  const admit = (
    exchange: MockExchange,
    now: number,
    forced: FaultKind | undefined,
    cost: TokenCost | undefined,
  ): boolean => {
    const tokens = cost ? cost.input + cost.output : 0
    // A forced 429 and a rate-limited request are both refused before counting against the window.
    if (forced === '429') {
      exchange.json(429, { error: 'rate limited (forced by x-mock-fault)' }, { 'retry-after': '1' })
      return false
    }
    if (quota) {
      const verdict = quota.admit({ now, wallTime: clock.wallTime(), cost, inFlight: stats.inFlight })
      if (!verdict.admitted) {
        stats.tokens('refused', tokens)
        exchange.json(verdict.refusal?.status ?? 429, verdict.refusal?.body, verdict.headers)
        return false
      }
      exchange.quotaHeaders = verdict.headers
      exchange.settle = verdict.settle
    }
    stats.tokens('charged', tokens)
    stats.admit(now)
    if (stats.inFlight > resolved.maxInFlight) {
      exchange.json(503, { error: `over ${resolved.maxInFlight} requests in flight` }, { 'retry-after': '1' })
      return false
    }
    if (resolved.auth !== undefined && !hasToken(exchange.req, resolved.auth)) {
      exchange.json(
        401,
        { error: 'unauthorized: a valid bearer token is required' },
        { 'www-authenticate': 'Bearer realm="volley-mock"' },
      )
      return false
    }
    return true
  }

  const handle = (req: MockRequest, res: MockResponse) => {
    const target = splitTarget(req.url ?? '/')
    if (target.path === STATS_PATH) {
      serveStats(req, res)
      return
    }
    const now = clock.now()
    const match = matchRoute(req.method ?? 'GET', target.path)
    const key = req.headers['idempotency-key']
    stats.arrive(now, match.kind === 'none' ? UNMATCHED : match.route.pattern, headerText(key))
    const exchange = new MockExchange(req, res, target, stats, clock, serverClosing)
    try {
      // A bad x-mock-* header is the caller's bug: answered 400 before any admission.
      const fault = forcedFault(req.headers['x-mock-fault'])
      const delay = forcedDelay(req.headers['x-mock-delay'])
      const proceed = (at: number, cost: TokenCost | undefined) => {
        if (!admit(exchange, at, fault, cost)) return
        // Always draw both, so a request's draws depend only on its place in the arrival order.
        const drawnFault = choices.fault()
        const drawnDelay = choices.latency()
        const respond = () => act(exchange, fault ?? drawnFault, match)
        const ms = delay ?? drawnDelay
        if (ms > 0) exchange.after(ms, respond)
        else respond()
      }
      const meter = match.kind === 'found' ? match.route.meter : undefined
      if (!meter) {
        proceed(now, undefined)
        return
      }
      // An LLM request's token cost is in its body: read it before admission, as the real APIs
      // do. Admitted at the time the body is read, so the windows see times in order.
      exchange
        .readJson()
        .then((body) => {
          exchange.llm = meter(body)
          proceed(clock.now(), exchange.llm.cost)
        })
        .catch((error: unknown) => exchange.fail(error))
    } catch (error) {
      exchange.fail(error)
    }
  }

  const act = (exchange: MockExchange, fault: FaultKind | undefined, match: RouteMatch) => {
    switch (fault) {
      case '500':
      case '502':
      case '503':
        exchange.json(Number(fault), { error: `injected ${fault} fault` })
        return
      case '429':
        exchange.json(429, { error: 'injected 429 fault' }, { 'retry-after': '1' })
        return
      case 'reset':
        exchange.reset()
        return
      case 'hang':
        exchange.hang()
        return
      case 'malformed':
        stats.count('malformed')
        exchange.send(200, '{"id":1,"name":"trunc', JSON_TYPE)
        return
    }
    dispatch(exchange, match)
  }

  const dispatch = (exchange: MockExchange, match: RouteMatch) => {
    if (match.kind === 'none') {
      exchange.json(404, { error: `no endpoint ${exchange.path} (see ${STATS_PATH} for what is served)` })
      return
    }
    if (match.kind === 'method') {
      exchange.json(
        405,
        { error: `${exchange.req.method} is not allowed on ${match.route.pattern}` },
        { allow: match.route.methods.join(', ') },
      )
      return
    }
    exchange.params = match.params
    try {
      const pending = match.route.handle(exchange, context)
      if (pending) pending.catch((error: unknown) => exchange.fail(error))
    } catch (error) {
      exchange.fail(error)
    }
  }

  const serveStats = (req: MockRequest, res: MockResponse) => {
    if (req.method === 'DELETE') stats.reset()
    writeBody(res, 200, JSON.stringify(stats.snapshot()), JSON_TYPE, { 'cache-control': 'no-store' })
  }

  const server = createWireServer(resolved, handle)
  // With connectDelay a TCP listener holds each connection, then hands it to the server.
  const listener = resolved.connectDelay > 0 ? holdConnections(server, resolved.connectDelay, clock) : server
  // 'connection' gives the TCP socket, under TLS and HTTP/2 sessions too: destroying it ends them all.
  // A held connection is counted (and destroyed by close()) from the moment it is accepted.
  listener.on('connection', (socket: Socket) => {
    sockets.add(socket)
    stats.connect()
    socket.once('close', () => {
      sockets.delete(socket)
      stats.disconnect()
    })
  })
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(resolved.port, resolved.host, () => {
      listener.off('error', reject)
      resolve()
    })
  })
  const address = listener.address()
  const port = typeof address === 'object' && address ? address.port : resolved.port
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host

  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => listener.close(() => resolve()))
      const gone = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)))
      // server.close() alone waits for keep-alive connections, sessions and hung requests; end them now.
      for (const socket of sockets) socket.destroy()
      await Promise.all([stopped, ...gone])
    })()
    return closing
  }

  return {
    url: `${resolved.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    seed: resolved.seed,
    options: resolved,
    stats: () => stats.snapshot(),
    arrivals: () => {
      const times = stats.arrivalTimes()
      if (!times) {
        throw new InvalidOptionError(
          'server.arrivals(): start the mock with the option `recordArrivals: true` to keep arrival times',
        )
      }
      return times
    },
    resetStats: () => stats.reset(),
    close,
    [Symbol.asyncDispose]: close,
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

function splitTarget(url: string): { path: string; query: string } {
  const mark = url.indexOf('?')
  return mark < 0 ? { path: url, query: '' } : { path: url.slice(0, mark), query: url.slice(mark + 1) }
}

/** Compares in constant time, so response timing does not leak how much of a guess was right. */
function hasToken(req: MockRequest, token: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? '')
  const expected = Buffer.from(`Bearer ${token}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
