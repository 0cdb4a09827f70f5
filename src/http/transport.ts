import { type Dispatcher, util } from 'undici'
import type { Clock, TimerHandle } from '../limit/clock.js'
import { isSecretHeader } from '../redact.js'
import type { RedirectReason } from './errors.js'
import type { CancelSignal, Watching } from './signals.js'

/** What came back from one attempt (after following redirects), body read in full. */
export interface RawResponse {
  status: number
  statusText: string
  headers: Record<string, string | string[]>
  body: Buffer
  /** The URL that answered. */
  url: URL
}

/** Why an attempt produced no response. The client turns it into a public error. */
export class AttemptFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'aborted' | 'too-large' | 'network' | 'invalid' | 'redirect',
    readonly reason?: unknown,
  ) {
    super(`attempt failed: ${kind}`)
  }
}

/** Why a redirect was not followed, with the status and the Location (as given, or resolved). */
export interface RedirectRefusal {
  reason: RedirectReason
  status: number
  location: string | URL | undefined
}

export interface AttemptRequest {
  method: string
  url: URL
  /** The URL's origin, and its path and query as sent: read once, not from the URL's getters per attempt. */
  origin: string
  path: string
  headers: Record<string, string | string[]>
  body: string | Uint8Array | undefined
}

/** The client's side of every attempt: set once per client. */
export interface TransportSettings {
  dispatcher: Dispatcher
  clock: Clock
  maxBodySize: number
  maxRedirects: number
  /** Origins that may receive the client's own headers (undefined: any). */
  allowed: ReadonlySet<string> | undefined
  /** Names of headers that came from the client's options (dropped on redirects to other origins). */
  clientHeaderNames: ReadonlySet<string>
}

/**
 * The request's side of one attempt: the request itself answers these (no object or closure per
 * attempt, since each one in flight is kept alive until its answer).
 */
export interface AttemptOwner {
  readonly signal: CancelSignal | undefined
  /** The client's retry policy would send this request again (its method, or its Idempotency-Key). */
  readonly resendable: boolean
  /** Called when undici writes the request on a connected socket (the first hop only). */
  onSent(): void
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * Sends one attempt: dispatches, follows redirects, reads the body, all within one deadline
 * (`timeout` ms, redirects and body included).
 */
export function sendAttempt(
  request: AttemptRequest,
  settings: TransportSettings,
  owner: AttemptOwner,
  timeout: number,
): Promise<RawResponse> {
  return new Attempt(request, settings, owner, timeout).promise
}

class Attempt {
  readonly promise: Promise<RawResponse>
  readonly #settings: TransportSettings
  readonly #owner: AttemptOwner
  #resolve!: (value: RawResponse) => void
  #reject!: (error: AttemptFailure) => void
  #timer: TimerHandle | undefined
  #hop: Exchange | undefined
  #settled = false
  /** The attempt's place among those its signal would abort. */
  #watching: Watching | undefined

  constructor(request: AttemptRequest, settings: TransportSettings, owner: AttemptOwner, timeout: number) {
    this.#settings = settings
    this.#owner = owner
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    const signal = owner.signal
    if (signal) {
      if (signal.aborted) {
        this.#fail(new AttemptFailure('aborted', signal.reason))
        return
      }
      this.#watching = signal.watch(() => this.#fail(new AttemptFailure('aborted', signal.reason)))
    }
    this.#timer = settings.clock.setTimer(() => {
      this.#timer = undefined
      this.#fail(new AttemptFailure('timeout'))
    }, timeout)
    this.#run(request, 0)
  }

  #run(request: AttemptRequest, hop: number): void {
    const exchange = new Exchange(this.#settings.maxBodySize, hop === 0 ? this.#owner : undefined)
    this.#hop = exchange
    exchange.done = (error) => {
      if (this.#settled) return
      if (error) return this.#fail(error)
      const next = this.#redirect(request, exchange, hop)
      if (next instanceof AttemptFailure) return this.#fail(next)
      if (next) return this.#run(next, hop + 1)
      this.#finish({
        status: exchange.status,
        statusText: exchange.statusText,
        headers: exchange.headers,
        body:
          exchange.chunks.length === 1 ? exchange.chunks[0]! : Buffer.concat(exchange.chunks, exchange.size),
        url: request.url,
      })
    }
    this.#settings.dispatcher.dispatch(
      {
        origin: request.origin,
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body,
        // undici holds back a request it may not resend until its HTTP/2 connection is idle; the
        // ones volley's retry policy would resend share the connection as concurrent streams (and
        // undici's own default, GET and HEAD, holds otherwise).
        idempotent: this.#owner.resendable || undefined,
      },
      exchange,
    )
  }

  /**
   * The request for the next hop; undefined when the answer is not a redirect to follow (or
   * `maxRedirects` is 0: the caller asked for the 3xx itself); an AttemptFailure for a redirect
   * that cannot be followed. Credentials never follow a redirect to another origin, the client's
   * headers go only to origins it may send them to, and a body never does.
   */
  #redirect(
    request: AttemptRequest,
    exchange: Exchange,
    hop: number,
  ): AttemptRequest | AttemptFailure | undefined {
    const { status } = exchange
    const { maxRedirects, allowed, clientHeaderNames } = this.#settings
    if (!REDIRECTS.has(status) || maxRedirects === 0) return undefined
    const location = exchange.headers.location
    const notFollowed = (reason: RedirectReason, url?: URL) =>
      new AttemptFailure('redirect', {
        reason,
        status,
        location: url ?? (typeof location === 'string' ? location : undefined),
      } satisfies RedirectRefusal)
    if (hop >= maxRedirects) return notFollowed('too-many')
    if (typeof location !== 'string') return notFollowed('no-location')
    let url: URL
    try {
      url = new URL(location, request.url)
    } catch {
      return notFollowed('invalid-location')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return notFollowed('scheme', url)
    const headers = { ...request.headers }
    let { method, body } = request
    // 303 always, and 301/302 after a POST (as browsers do), turn into a GET without the body.
    if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
      method = 'GET'
      body = undefined
      for (const name of ['content-type', 'content-length', 'content-encoding', 'transfer-encoding'])
        delete headers[name]
    }
    delete headers.host
    const { origin } = url
    if (origin !== request.origin) {
      // A 307/308 re-sends the body: the body was meant for the origin it was sent to.
      if (body !== undefined) return notFollowed('cross-origin-body', url)
      for (const name of Object.keys(headers)) if (isSecretHeader(name)) delete headers[name]
      if (allowed && !allowed.has(origin)) {
        for (const name of clientHeaderNames) delete headers[name]
      }
    }
    return { method, url, origin, path: `${url.pathname}${url.search}`, headers, body }
  }

  #finish(response: RawResponse): void {
    this.#settled = true
    this.#cleanup()
    this.#resolve(response)
  }

  #fail(error: AttemptFailure): void {
    if (this.#settled) return
    this.#settled = true
    this.#cleanup()
    // Stops the request on the wire (a socket mid-response is closed, so the server sees it).
    this.#hop?.cancel(error)
    this.#reject(error)
  }

  #cleanup(): void {
    if (this.#timer !== undefined) this.#settings.clock.clearTimer(this.#timer)
    if (this.#watching) this.#owner.signal!.forget(this.#watching)
  }
}

/** An undici dispatch handler that collects one response, bounded by maxBodySize. */
class Exchange implements Dispatcher.DispatchHandler {
  status = 0
  statusText = ''
  headers: Record<string, string | string[]> = {}
  chunks: Buffer[] = []
  size = 0
  done: (error?: AttemptFailure) => void = () => {}
  readonly #maxBodySize: number
  /** Told when the request is written: the first hop's only. */
  readonly #owner: AttemptOwner | undefined
  #abort: ((reason?: Error) => void) | undefined
  #cancelled: AttemptFailure | undefined

  constructor(maxBodySize: number, owner: AttemptOwner | undefined) {
    this.#maxBodySize = maxBodySize
    this.#owner = owner
  }

  cancel(reason: AttemptFailure): void {
    this.#cancelled = reason
    this.#abort?.(reason)
  }

  onConnect(abort: (reason?: Error) => void): void {
    // Still queued in the pool when cancelled: undici calls this once a socket is free; stop there.
    if (this.#cancelled) return abort(this.#cancelled)
    this.#abort = abort
    // undici calls this right before it writes the request on a connected socket: the request
    // leaves now, handshakes done, and the rate counts it from here.
    this.#owner?.onSent()
  }

  onHeaders(status: number, rawHeaders: Buffer[], _resume: () => void, statusText: string): boolean {
    this.status = status
    this.statusText = statusText
    this.headers = parseRawHeaders(rawHeaders)
    const length = Number(this.headers['content-length'])
    if (length > this.#maxBodySize) this.#tooLarge()
    return true
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length
    if (this.size > this.#maxBodySize) {
      this.#tooLarge()
      return false
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete(): void {
    this.done()
  }

  onError(error: Error): void {
    if (error instanceof AttemptFailure) this.done(error)
    else {
      const code = (error as { code?: unknown }).code
      this.done(new AttemptFailure(code === 'UND_ERR_INVALID_ARG' ? 'invalid' : 'network', error))
    }
  }

  #tooLarge(): void {
    const failure = new AttemptFailure('too-large')
    this.done(failure)
    this.#abort?.(failure)
  }
}

/** undici's raw headers ([name, value, name, value...] as Buffers) to lower-cased names. */
export function parseRawHeaders(raw: readonly (Buffer | string)[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null)
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // undici's lookup of well-known names: no string built and lower-cased for them (half the cost).
    const name = util.headerNameToString(raw[i]!)
    const value = raw[i + 1]!.toString('latin1')
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = [prev, value]
  }
  return out
}
