// The far API of the arrivals tests: a server that enforces `limit` arrivals per window exactly,
// optionally behind a proxy that holds each new connection like a far API's handshake. Started by
// startExactServer (far-api.ts), which documents the options: run as a process of its own (as a
// real API is, so the client's work never delays a timestamp), it speaks IPC: {type:'ready', url}
// once listening, then one reply {id, value} per request {id, type: 'stats' | 'closeIdle' | 'open'}.
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { connect, createServer as createTcpServer } from 'node:net'
import { RateWindow } from '../../dist/mock/windows.js'

/** GitHub's count (ExactServerOptions.fixed); times are performance.now(). */
class FixedWindow {
  #limit
  #windowMs
  #start = Number.NEGATIVE_INFINITY
  #used = 0

  constructor(limit, windowMs) {
    this.#limit = limit
    this.#windowMs = windowMs
  }

  remaining(at) {
    if (at >= this.#start + this.#windowMs) {
      this.#start = Math.floor((performance.timeOrigin + at) / 1000) * 1000 - performance.timeOrigin
      this.#used = 0
    }
    return this.#limit - this.#used
  }

  nextFreeIn(at) {
    return this.#start + this.#windowMs - at
  }

  record() {
    this.#used++
  }
}

/**
 * What a server speaking `dialect` says of the quota with `remaining` left. `freeIn` is when the
 * next slot frees. The LLM vendors state when all are free again as a continuous refill would
 * reach it (used x window / limit), as their token buckets do.
 */
function announcement(dialect, { limit, windowMs, remaining, freeIn, wallNow }) {
  const refilledIn = ((limit - remaining) * windowMs) / limit
  // Whole epoch seconds: a fixed window's end is one (less float noise), a sliding one's is rounded up.
  const epochReset = String(Math.ceil((wallNow + freeIn) / 1000 - 1e-6))
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
        'x-ratelimit-reset': epochReset,
        'x-ratelimit-resource': 'core',
      }
    case 'x':
      // X (Twitter) API v2: epoch seconds, as GitHub, under its own prefix.
      return {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(remaining),
        'x-rate-limit-reset': epochReset,
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
    default:
      throw new Error(`far-api-server: no dialect ${dialect}`)
  }
}

/** Serves the far API here; resolves once it listens. */
async function startExactApi({ limit, windowMs, delayMs = 0, tls, announce, fixed = false, connectDelayMs }) {
  const GITHUB_EXCEEDED = JSON.stringify({ message: 'API rate limit exceeded for 127.0.0.1.' })

  const window = fixed ? new FixedWindow(limit, windowMs) : new RateWindow({ limit, interval: windowMs })
  const arrivals = []
  const quota = (at) =>
    announce
      ? announcement(announce, {
          limit,
          windowMs,
          remaining: window.remaining(at),
          freeIn: window.nextFreeIn(at),
          wallNow: performance.timeOrigin + at,
        })
      : {}

  const handler = (req, res) => {
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
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const scheme = tls ? 'https' : 'http'
  const serverPort = server.address().port

  /**
   * Holds every new connection `connectDelayMs` before connecting it to the server; what the client
   * sent meanwhile waits, paused. Plain TCP cannot hold the client's own connect (the kernel
   * completes it at once), so over http the client sees a connected socket whose first request is
   * slow; over https the ClientHello waits, so the client's socket is connected only after the
   * delay, as against a real far API.
   */
  function startProxy() {
    const clients = new Set()
    const track = (set, socket) => {
      set.add(socket)
      socket.on('close', () => set.delete(socket))
    }
    const proxy = createTcpServer({ pauseOnConnect: true }, (client) => {
      track(clients, client)
      client.on('error', () => client.destroy())
      const timer = setTimeout(() => {
        const upstream = connect(serverPort, '127.0.0.1', () => {
          client.pipe(upstream)
          upstream.pipe(client)
        })
        upstream.on('error', () => upstream.destroy())
        // Either side closing ends the pair: no half-dead connection stays open.
        upstream.on('close', () => client.destroy())
        client.on('close', () => upstream.destroy())
      }, connectDelayMs)
      client.on('close', () => clearTimeout(timer))
    })
    return { proxy, clients }
  }

  const front = connectDelayMs === undefined ? undefined : startProxy()
  if (front) await new Promise((resolve) => front.proxy.listen(0, '127.0.0.1', resolve))
  const port = front ? front.proxy.address().port : serverPort
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    stats: () => arrivals,
    closeIdle: () => server.closeIdleConnections(),
    open: () => front?.clients.size ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        if (front) for (const socket of front.clients) socket.destroy()
        front?.proxy.close()
        server.close(() => resolve())
      }),
  }
}

// startExactServer forks this with the options.
const api = await startExactApi(JSON.parse(process.argv[3]))
process.on('message', ({ id, type }) => process.send({ id, value: api[type]() ?? null }))
// The test ended (or died): nothing here outlives it.
process.on('disconnect', () => process.exit(0))
process.send({ type: 'ready', url: api.url })
