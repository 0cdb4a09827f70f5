import { setMaxListeners } from 'node:events'
import type { Dispatcher } from 'undici'
import { AbortError, ClosedError, InvalidOptionError } from '../errors.js'
import type { TimerHandle } from '../limit/clock.js'
import type { Limiter } from '../limit/limiter.js'
import { all } from '../run/all.js'
import { group } from '../run/group.js'
import type { RunManyOptions } from '../run/options.js'
import type { ItemContext, Result } from '../run/result.js'
import type { Items } from '../run/source.js'
import { stream } from '../run/stream.js'
import {
  BodyTooLargeError,
  HttpError,
  InvalidRequestError,
  NetworkError,
  RateLimitError,
  type RequestErrorInfo,
  requestAbortError,
  TimeoutError,
} from './errors.js'
import { createAgent } from './agent.js'
import { type ClientEventName, Emitter, type Listener } from './events.js'
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.js'
import { type AdaptiveSettings, adapt, type OriginState, Origins } from './origins.js'
import { parseRetryAfter } from './ratelimit-headers.js'
import { redactText, secretValues } from '../redact.js'
import { Response } from './response.js'
import { type AttemptOutcome, isRetryable, mayRetryMethod, retryDelay } from './retry.js'
import { type CancelSignal, SignalFanout } from './signals.js'
import {
  type PreparedRequest,
  prepareRequest,
  type RequestObject,
  type RequestSpec,
  type SpecContext,
  shownUrl,
} from './spec.js'
import { AttemptFailure, type RawResponse, sendAttempt } from './transport.js'

/** Options of one call: `request`, `get`, `post`... (the spec fields, and a signal). */
export interface RequestOptions extends Omit<RequestObject, 'url' | 'method'> {
  /** Aborting it cancels the request wherever it is (queued, in flight, between retries). */
  signal?: AbortSignal
}

/** Options of `all`, `stream` and `group`. */
export interface ManyOptions {
  /** Requests of this call in flight at once. @default the client's concurrency, else 64 */
  concurrency?: number
  /** Aborting it aborts requests in flight; those not started settle as AbortErrors. */
  signal?: AbortSignal
  /**
   * Aborting it stops starting requests (those waiting, for a slot or the rate, settle as
   * AbortErrors naming its reason) while requests in flight finish: a graceful stop.
   */
  stopSignal?: AbortSignal
  /** Statuses that stop this call (what has not started settles as AbortErrors). @default the client's stopOn */
  stopOn?: readonly number[]
  /** Priority of this call's requests in the limiters (higher first). @default 0 */
  priority?: number
}

/** The last attempt's answer, carried with the Retry-After the adaptive layer read from it. */
interface Answer extends RawResponse {
  retryAfter: number | undefined
}

/** Set while one `all`/`stream`/`group` call runs: what stops it, and what waits give up on. */
interface Batch {
  /** The call's signal, shared by its requests in flight through one listener. */
  inFlight: SignalFanout
  stop: AbortController
  stopOn: ReadonlySet<number>
  /** Aborts on the call's abort or its stop: for queue waits and backoff, not requests in flight. */
  waitSignal: AbortSignal
}

const BLOCKED = Symbol('blocked')
const EXCERPT = 500

/**
 * An HTTP client made of three parts: a Limiter per origin (concurrency, rates, pauses, learned
 * quotas), an undici dispatcher (keep-alive connections), and a retry policy. Every attempt, the
 * retries included, passes through its origin's Limiter.
 */
export class Client implements AsyncDisposable {
  readonly #o: ResolvedClientOptions
  readonly #dispatcher: Dispatcher
  readonly #ownsDispatcher: boolean
  readonly #origins: Origins
  readonly #emitter = new Emitter()
  readonly #spec: SpecContext
  readonly #clientHeaderNames: ReadonlySet<string>
  readonly #secrets: string[]
  readonly #adaptive: AdaptiveSettings
  readonly #sleeps = new Set<() => void>()
  #closed = false

  constructor(options?: ClientOptions) {
    const o = resolveClientOptions(options)
    this.#o = o
    this.#ownsDispatcher = o.dispatcher === undefined
    this.#dispatcher = o.dispatcher ?? createAgent(o)
    this.#origins = new Origins({
      baseOrigin: o.baseOrigin,
      pinned: o.origins === undefined ? [] : [...o.origins],
      rateMargin: o.rateMargin,
      smooth: o.smooth,
      limiter: o.limiter,
      concurrency: o.concurrency,
      rates: o.rates,
      store: o.store,
      key: o.key,
      clock: o.clock,
    })
    this.#spec = { base: o.base, origins: o.origins, headers: o.headers }
    this.#clientHeaderNames = new Set(Object.keys(o.headers))
    this.#secrets = secretValues(o.headers)
    this.#adaptive = { clock: o.clock, emitter: this.#emitter, maxRetryAfter: o.maxRetryAfter }
    for (const [name, listeners] of Object.entries(o.on)) {
      for (const listener of Array.isArray(listeners) ? listeners : [listeners]) {
        this.#emitter.on(name as ClientEventName, listener as Listener<ClientEventName>)
      }
    }
  }

  /** Listens to an event (see ClientEvents); returns the function that stops listening. */
  on<K extends ClientEventName>(name: K, listener: Listener<K>): () => void {
    return this.#emitter.on(name, listener)
  }

  /**
   * The Limiter of an origin (the baseUrl's by default): for its `stats()`, or to `pause()` it.
   * Origins get their limiter on first use; asking creates it.
   */
  limiterFor(origin?: string | URL): Limiter {
    const name = origin === undefined ? this.#o.baseOrigin : new URL(String(origin)).origin
    if (name === undefined)
      throw new InvalidOptionError('Client.limiterFor: name an origin (the client has no baseUrl)')
    return this.#origins.pin(name).limiter
  }

  /** Sends one request; resolves with the Response, or rejects with a typed error. */
  request(spec: RequestSpec, options?: { signal?: AbortSignal }): Promise<Response> {
    let prepared: PreparedRequest
    try {
      if (this.#closed) throw new ClosedError('Client.request: the client is closed')
      prepared = prepareRequest(spec, this.#spec)
    } catch (error) {
      return Promise.reject(error)
    }
    const signal = options?.signal
    return this.#send(prepared, signal, undefined)
  }

  get(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#method('GET', url, options)
  }
  head(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#method('HEAD', url, options)
  }
  post(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#method('POST', url, options)
  }
  put(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#method('PUT', url, options)
  }
  patch(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#method('PATCH', url, options)
  }
  delete(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.#method('DELETE', url, options)
  }

  /** Sends every spec; resolves with a Result per spec, in input order. Never rejects for a request. */
  all<S extends RequestSpec>(specs: Items<S>, options?: ManyOptions): Promise<Result<Response, S>[]> {
    const many = this.#many<S>(options)
    return all(specs, many.fn, many.run)
  }

  /** Sends every spec, yielding each Result as it completes (input read lazily, memory bounded). */
  stream<S extends RequestSpec>(
    specs: Items<S>,
    options?: ManyOptions,
  ): AsyncIterableIterator<Result<Response, S>> {
    const many = this.#many<S>(options)
    return stream(specs, many.fn, many.run)
  }

  /** Sends every spec, failing fast: the first error aborts requests in flight and rejects (AggregateError). */
  group<S extends RequestSpec>(specs: Items<S>, options?: ManyOptions): Promise<Response[]> {
    const many = this.#many<S>(options)
    return group(specs, many.fn, many.run)
  }

  /**
   * Refuses new requests, fails queued ones with a ClosedError, cuts backoff waits short, lets
   * requests in flight finish, then closes the connections. A limiter you passed in stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const wake of [...this.#sleeps]) wake()
    await Promise.all(this.#origins.all().map((state) => (state.owned ? state.limiter.close() : undefined)))
    if (this.#ownsDispatcher) await this.#dispatcher.close()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #method(method: string, url: string | URL, options: RequestOptions | undefined): Promise<Response> {
    if (!options) return this.request({ url, method })
    const { signal, ...rest } = options
    return this.request({ ...rest, url, method }, { signal })
  }

  #many<S extends RequestSpec>(options: ManyOptions | undefined) {
    const o = this.#o
    const stop = new AbortController()
    const outer = options?.stopSignal
    // One stop for both causes: a stopOn status seen by this call, or the caller's stopSignal.
    if (outer?.aborted) stop.abort(outer.reason)
    else outer?.addEventListener('abort', () => stop.abort(outer.reason), { once: true })
    const stopOn = options?.stopOn ? new Set(options.stopOn) : o.stopOn
    let batch: Batch | undefined
    const fn = (spec: S, context: ItemContext): Promise<Response> => {
      if (this.#closed) throw new ClosedError('Client: the client is closed')
      const prepared = prepareRequest(spec, this.#spec)
      // The call's signal is the same for every item: combine it with the stop signal once.
      batch ??= newBatch(context.signal, stop, stopOn)
      return this.#send(prepared, batch.inFlight, batch, options?.priority)
    }
    const concurrency = options?.concurrency ?? (Number.isFinite(o.concurrency) ? o.concurrency : undefined)
    const run: RunManyOptions = { concurrency, signal: options?.signal, stopSignal: stop.signal }
    return { fn, run }
  }

  /**
   * The attempt loop: through the limiter, send, judge, maybe wait and go again. The request holds
   * its origin's state until it ends, retries and backoffs included, so the state is not forgotten.
   */
  async #send(
    req: PreparedRequest,
    signal: CancelSignal | undefined,
    batch: Batch | undefined,
    priority?: number,
  ): Promise<Response> {
    const state = this.#origins.use(req.origin)
    try {
      const o = this.#o
      const start = o.clock.now()
      // Whether the retry policy would send this request again: it decides the attempts, and tells
      // undici which requests may share an HTTP/2 connection.
      const resendable = mayRetryMethod(o.retry, req.method, req.idempotencyKey)
      const maxAttempts = resendable ? o.retry.attempts : 1
      const waitSignal = batch ? batch.waitSignal : (signal as AbortSignal | undefined)
      const runOptions = waitSignal || priority ? { signal: waitSignal, priority } : undefined
      const info = (attempts: number): RequestErrorInfo => ({
        method: req.method,
        url: shownUrl(req),
        attempts,
        ms: o.clock.now() - start,
      })
      for (let attempt = 1; ; attempt++) {
        // A shared limiter outlives this client: after close() no retry may start on the closed dispatcher.
        if (this.#closed)
          throw new ClosedError(`Client: closed before attempt ${attempt} of ${req.method} ${shownUrl(req)}`)
        let answer: Answer
        try {
          answer = await state.limiter.run(
            () => this.#attempt(req, state, attempt, signal, resendable),
            runOptions,
          )
        } catch (thrown) {
          if (thrown === BLOCKED) throw this.#blockedError(state.blockedFor, info(attempt - 1))
          if (!(thrown instanceof AttemptFailure)) throw this.#notSent(thrown, info(attempt - 1))
          const outcome = this.#judgeFailure(thrown, req, info(attempt))
          if (attempt >= maxAttempts || !isRetryable(o.retry, outcome.outcome))
            throw this.#report(req, outcome.error)
          await this.#retry(req, state, attempt, outcome.reason, undefined, undefined, waitSignal, info)
          continue
        }
        const status = answer.status
        if (status < 400) {
          return new Response({
            status,
            statusText: answer.statusText,
            headers: answer.headers,
            url: answer.url.href,
            attempts: attempt,
            ms: o.clock.now() - start,
            id: req.id,
            body: answer.body,
          })
        }
        if (batch?.stopOn.has(status) && !batch.stop.signal.aborted) {
          const detail = `${req.method} ${shownUrl(req)} answered ${status}, which is in stopOn`
          batch.stop.abort(
            new AbortError(`Stopped: ${detail}`, { stop: { code: 'STOP_ON_STATUS', status, detail } }),
          )
        }
        // Sleeping for hours helps nobody, adaptive or not: fail now with what the server said.
        if (answer.retryAfter !== undefined && answer.retryAfter > o.maxRetryAfter) {
          throw this.#report(req, this.#blockedError(answer.retryAfter, info(attempt), answer))
        }
        if (attempt >= maxAttempts || !isRetryable(o.retry, { kind: 'status', status })) {
          throw this.#report(req, this.#statusError(req, answer, info(attempt)))
        }
        await this.#retry(
          req,
          state,
          attempt,
          `status ${status}`,
          status,
          answer.retryAfter,
          waitSignal,
          info,
        )
      }
    } finally {
      this.#origins.release(state)
    }
  }

  /** One attempt, run inside the origin's limiter slot. */
  async #attempt(
    req: PreparedRequest,
    state: OriginState,
    attempt: number,
    signal: CancelSignal | undefined,
    resendable: boolean,
  ): Promise<Answer> {
    const o = this.#o
    // The server asked for a longer wait than maxRetryAfter: fail without sending.
    if (state.blockedUntil > o.clock.now()) throw BLOCKED
    const emitter = this.#emitter
    if (emitter.has.request) {
      emitter.emit('request', {
        method: req.method,
        url: shownUrl(req),
        origin: req.origin,
        attempt,
        id: req.id,
      })
    }
    const sent = o.clock.now()
    state.inFlight++
    let raw: RawResponse
    try {
      raw = await sendAttempt(req, {
        dispatcher: this.#dispatcher,
        clock: o.clock,
        timeout: req.timeout ?? o.timeout,
        maxBodySize: o.maxBodySize,
        maxRedirects: o.maxRedirects,
        signal,
        allowed: o.origins,
        clientHeaderNames: this.#clientHeaderNames,
        resendable,
      })
    } finally {
      state.inFlight--
    }
    const answer = raw as Answer
    // Read the rate-limit headers before the slot is released, so a pause holds the next start.
    if (o.adaptive) answer.retryAfter = adapt(state, raw.status, raw.headers, this.#adaptive)
    else
      answer.retryAfter =
        raw.status === 429 || raw.status === 503
          ? parseRetryAfter(raw.headers['retry-after'], o.clock.wallTime())
          : undefined
    if (emitter.has.response) {
      emitter.emit('response', {
        method: req.method,
        url: shownUrl(req),
        origin: req.origin,
        status: raw.status,
        attempt,
        ms: o.clock.now() - sent,
        id: req.id,
      })
    }
    return answer
  }

  /** Waits before the next attempt: the server's Retry-After, or jittered backoff. */
  async #retry(
    req: PreparedRequest,
    state: OriginState,
    attempt: number,
    reason: string,
    status: number | undefined,
    retryAfter: number | undefined,
    waitSignal: AbortSignal | undefined,
    info: (attempts: number) => RequestErrorInfo,
  ): Promise<void> {
    const o = this.#o
    const { delay, source } = retryDelay(o.retry, attempt, retryAfter, o.random())
    // With adaptive on, a Retry-After already paused the whole origin: the limiter does the waiting.
    const wait = source === 'retry-after' && o.adaptive ? 0 : delay
    if (this.#emitter.has.retry) {
      this.#emitter.emit('retry', {
        method: req.method,
        url: shownUrl(req),
        origin: state.origin,
        attempt,
        reason,
        status,
        delay,
        source,
        id: req.id,
      })
    }
    if (wait > 0) {
      try {
        await this.#sleep(wait, waitSignal)
      } catch (error) {
        throw this.#report(req, requestAbortError(info(attempt), error as AbortError))
      }
    }
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const clock = this.#o.clock
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(AbortError.from(signal))
      const done = () => {
        clock.clearTimer(timer)
        signal?.removeEventListener('abort', onAbort)
        this.#sleeps.delete(done)
        resolve()
      }
      const onAbort = () => {
        done()
        reject(AbortError.from(signal!))
      }
      const timer: TimerHandle = clock.setTimer(done, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#sleeps.add(done)
    })
  }

  /** Maps an attempt that produced no response to its public error and retry outcome. */
  #judgeFailure(
    failure: AttemptFailure,
    req: PreparedRequest,
    info: RequestErrorInfo,
  ): { outcome: AttemptOutcome; error: Error; reason: string } {
    switch (failure.kind) {
      case 'timeout':
        return {
          outcome: { kind: 'timeout' },
          error: new TimeoutError({ ...info, timeout: req.timeout ?? this.#o.timeout }),
          reason: 'TIMEOUT',
        }
      case 'network': {
        const cause = failure.reason as Error
        const code = (cause as { code?: unknown }).code
        return {
          outcome: { kind: 'network', code: typeof code === 'string' ? code : undefined },
          error: new NetworkError(info, cause),
          reason: `NETWORK ${typeof code === 'string' ? code : cause.name}`,
        }
      }
      case 'too-large':
        return {
          outcome: { kind: 'fatal' },
          error: new BodyTooLargeError({ ...info, limit: this.#o.maxBodySize }),
          reason: 'BODY_TOO_LARGE',
        }
      case 'invalid':
        return {
          outcome: { kind: 'fatal' },
          error: new InvalidRequestError(
            'request',
            `${req.method} ${info.url}: ${(failure.reason as Error).message}`,
          ),
          reason: 'INVALID_REQUEST',
        }
      default: {
        const reason = failure.reason
        const abort = reason instanceof AbortError ? reason : AbortError.from(AbortSignal.abort(reason))
        return { outcome: { kind: 'fatal' }, error: requestAbortError(info, abort), reason: 'ABORTED' }
      }
    }
  }

  /** An error status as HttpError, or RateLimitError for 429; the body excerpt has secrets removed. */
  #statusError(req: PreparedRequest, answer: Answer, info: RequestErrorInfo): HttpError {
    const details = {
      ...info,
      status: answer.status,
      statusText: answer.statusText,
      body: this.#excerpt(req, answer.body),
      headers: answer.headers,
    }
    if (answer.status === 429) return new RateLimitError({ ...details, retryAfter: answer.retryAfter })
    return new HttpError(details)
  }

  #blockedError(retryAfter: number, info: RequestErrorInfo, answer?: Answer): RateLimitError {
    const seconds = Math.ceil(retryAfter / 1000)
    return new RateLimitError({
      ...info,
      status: answer?.status ?? 429,
      retryAfter,
      headers: answer?.headers,
      reason: `was refused: the server asked to wait ${seconds} s (Retry-After), more than maxRetryAfter (${Math.round(this.#o.maxRetryAfter / 1000)} s)`,
    })
  }

  /** Errors raised before anything was sent: a queue wait aborted, the client closed. */
  #notSent(thrown: unknown, info: RequestErrorInfo): unknown {
    if (thrown instanceof AbortError) return requestAbortError(info, thrown)
    return thrown
  }

  #excerpt(req: PreparedRequest, body: Buffer): string {
    if (body.length === 0) return ''
    const text = body
      .subarray(0, EXCERPT * 4)
      .toString('utf8')
      .slice(0, EXCERPT)
    return redactText(text, [...this.#secrets, ...secretValues(req.headers, req.url)])
  }

  #report(req: PreparedRequest, error: Error): Error {
    if (this.#emitter.has.error) {
      this.#emitter.emit('error', {
        method: req.method,
        url: shownUrl(req),
        origin: req.origin,
        error,
        id: req.id,
      })
    }
    return error
  }
}

function newBatch(signal: AbortSignal, stop: AbortController, stopOn: ReadonlySet<number>): Batch {
  const waitSignal = AbortSignal.any([signal, stop.signal])
  // Every queued request of the call listens to it (bounded by the call's concurrency): not a leak.
  setMaxListeners(0, waitSignal)
  return { inFlight: new SignalFanout(signal), stop, stopOn, waitSignal }
}

/** A client: see ClientOptions. `await using api = createClient(...)` closes it at the end of the scope. */
export function createClient(options?: ClientOptions): Client {
  return new Client(options)
}
