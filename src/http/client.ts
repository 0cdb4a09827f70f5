import { setMaxListeners } from 'node:events'
import type { Dispatcher } from 'undici'
import { ClosedError, InvalidOptionError } from '../errors.js'
import type { Limiter } from '../limit/limiter.js'
import type { RunOptions } from '../limit/task.js'
import { all } from '../run/all.js'
import { group } from '../run/group.js'
import type { RunManyOptions } from '../run/options.js'
import type { ItemContext, Result } from '../run/result.js'
import type { Items } from '../run/source.js'
import { stream } from '../run/stream.js'
import { createAgent } from './agent.js'
import { Call, type CallSend, type ManyCall, responseTo } from './call.js'
import { compose, userLayer } from './compose.js'
import { type ClientError, HttpError, RateLimitError } from './errors.js'
import { type ClientEventName, Emitter, type Listener } from './events.js'
import { admissionLayer } from './layers/admission.js'
import { circuitBreakerLayer } from './layers/circuit-breaker.js'
import { rateLimitLayer } from './layers/rate-limit.js'
import { retryLayer } from './layers/retry.js'
import { telemetryLayer } from './layers/telemetry.js'
import { stopOnStatusLayer } from './layers/stop-on-status.js'
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.js'
import { Origins } from './origins.js'
import {
  type PageOptions,
  type PageResult,
  paginate,
  type PaginateOptions,
  paginateAll,
} from './pages/index.js'
import type { LayerResponse } from './pipeline.js'
import { redactText, secretValues } from '../redact.js'
import { Response } from './response.js'
import { mayRetryMethod } from './retry.js'
import { SignalFanout } from './signals.js'
import { createSend } from './send.js'
import {
  type PreparedRequest,
  prepareRequest,
  type RequestObject,
  type RequestSpec,
  type SpecContext,
  shownUrl,
} from './spec.js'

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

const EXCERPT = 500

/**
 * An HTTP client: a Limiter per origin (concurrency, rates, pauses, learned quotas), an undici
 * dispatcher (keep-alive connections), and a pipeline of layers around one send step:
 *
 *   retry -> stop on status -> circuit breaker -> your layers -> admission (the origin's limiter) -> rate-limit headers -> send
 *
 * Every attempt, the retries included, passes through its origin's Limiter.
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
  readonly #pipeline: CallSend
  /** Aborted by close(): backoff waits end at once. */
  readonly #closing = new AbortController()

  constructor(options?: ClientOptions) {
    const o = resolveClientOptions(options)
    this.#o = o
    this.#ownsDispatcher = o.dispatcher === undefined
    this.#dispatcher = o.dispatcher ?? createAgent({ ...o, connections: o.connections ?? connectionCap(o) })
    this.#origins = new Origins({
      baseOrigin: o.baseOrigin,
      pinned: o.origins === undefined ? [] : [...o.origins],
      limiter: o.limiter,
      limits: o.limits,
    })
    this.#spec = { base: o.base, origins: o.origins, headers: o.headers, cost: o.cost }
    this.#clientHeaderNames = new Set(Object.keys(o.headers))
    this.#secrets = secretValues(o.headers)
    const { clock } = o
    const emitter = this.#emitter
    const telemetry = telemetryLayer(clock)
    this.#pipeline = compose(
      [
        ...(telemetry ? [telemetry] : []),
        retryLayer({
          policy: o.retry,
          adaptive: o.adaptive,
          clock,
          random: o.random,
          emitter,
          closing: this.#closing.signal,
        }),
        stopOnStatusLayer,
        ...(o.circuitBreaker ? [circuitBreakerLayer({ policy: o.circuitBreaker, clock })] : []),
        ...o.layers.map(userLayer),
        admissionLayer({ clock, isClosed: () => this.#closed, usage: o.usage }),
        rateLimitLayer({ adaptive: o.adaptive, clock, emitter, maxRetryAfter: o.maxRetryAfter }),
      ],
      createSend({
        dispatcher: this.#dispatcher,
        clock,
        emitter,
        timeout: o.timeout,
        maxBodySize: o.maxBodySize,
        maxRedirects: o.maxRedirects,
        allowed: o.origins,
        clientHeaderNames: this.#clientHeaderNames,
      }),
    )
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
  all<S extends RequestSpec>(
    specs: Items<S>,
    options?: ManyOptions,
  ): Promise<Result<Response, S, ClientError>[]> {
    const many = this.#many<S>(options)
    return all(specs, many.fn, many.run) as Promise<Result<Response, S, ClientError>[]>
  }

  /** Sends every spec, yielding each Result as it completes (input read lazily, memory bounded). */
  stream<S extends RequestSpec>(
    specs: Items<S>,
    options?: ManyOptions,
  ): AsyncIterableIterator<Result<Response, S, ClientError>> {
    const many = this.#many<S>(options)
    return stream(specs, many.fn, many.run) as AsyncIterableIterator<Result<Response, S, ClientError>>
  }

  /** Sends every spec, failing fast: the first error aborts requests in flight and rejects (AggregateError). */
  group<S extends RequestSpec>(specs: Items<S>, options?: ManyOptions): Promise<Response[]> {
    const many = this.#many<S>(options)
    return group(specs, many.fn, many.run)
  }

  /**
   * Follows one list's pages (through this client, like any request) and yields its items, or its
   * pages as Responses when `items` is unset. See docs/pagination.md.
   */
  paginate<T = unknown>(
    spec: RequestSpec,
    options: PaginateOptions & { items: NonNullable<PageOptions['items']> },
  ): AsyncGenerator<T, void, undefined>
  paginate(spec: RequestSpec, options?: PaginateOptions): AsyncGenerator<Response, void, undefined>
  paginate(spec: RequestSpec, options?: PaginateOptions): AsyncGenerator<unknown, void, undefined> {
    const signal = options?.signal
    return paginate((page) => this.request(page, { signal }), spec, options)
  }

  /**
   * Follows the pages of every list, lists at once under this call's concurrency, yielding
   * `{ ok, list, page, item }` as pages arrive (each list's in order); a failed list yields one failed result.
   */
  paginateAll<T = unknown>(
    specs: Items<RequestSpec>,
    options: ManyOptions & PageOptions & { items: NonNullable<PageOptions['items']> },
  ): AsyncIterableIterator<PageResult<T>>
  paginateAll(
    specs: Items<RequestSpec>,
    options?: ManyOptions & PageOptions,
  ): AsyncIterableIterator<PageResult<Response>>
  paginateAll(
    specs: Items<RequestSpec>,
    options?: ManyOptions & PageOptions,
  ): AsyncIterableIterator<PageResult> {
    const many = this.#many<RequestSpec>(options)
    return paginateAll(specs, many.fn, many.run, options)
  }

  /**
   * Refuses new requests, fails queued ones with a ClosedError, cuts backoff waits short, lets
   * requests in flight finish, then closes the connections. A limiter you passed in stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closing.abort()
    await Promise.all(this.#origins.all().map((state) => (state.owned ? state.limiter.close() : undefined)))
    if (this.#ownsDispatcher) await this.#dispatcher.close()
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted
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
    let many: ManyCall | undefined
    const fn = (spec: S, context: ItemContext): Promise<Response> => {
      if (this.#closed) throw new ClosedError('Client: the client is closed')
      const prepared = prepareRequest(spec, this.#spec)
      // The call's signal is the same for every item: combine it with the stop signal once.
      many ??= newManyCall(context.signal, stop, stopOn, options?.priority)
      return this.#send(prepared, undefined, many)
    }
    const own = o.limits.policy.concurrency
    const concurrency = options?.concurrency ?? (Number.isFinite(own) ? own : undefined)
    const run: RunManyOptions = { concurrency, signal: options?.signal, stopSignal: stop.signal }
    return { fn, run }
  }

  /**
   * Sends one request through the pipeline and settles it: a Response, or the error its last attempt
   * came to. The request holds its origin's state until it ends (retries and backoff included), so
   * the state is not forgotten under it.
   */
  async #send(
    req: PreparedRequest,
    signal: AbortSignal | undefined,
    many: ManyCall | undefined,
  ): Promise<Response> {
    const o = this.#o
    const state = this.#origins.use(req.origin)
    const call = new Call({
      clock: o.clock,
      req,
      state,
      signal,
      many,
      resendable: mayRetryMethod(o.retry, req.method, req.idempotencyKey),
      start: o.clock.now(),
      wallStart: o.clock.wallTime(),
    })
    try {
      const answer = await this.#pipeline(call)
      if (answer.status >= 400) throw this.#statusError(call, answer)
      return responseTo(call, answer, o.clock)
    } catch (error) {
      throw this.#report(req, error)
    } finally {
      this.#origins.release(state)
    }
  }

  /** An error status as HttpError, or RateLimitError for 429; the body excerpt has secrets removed. */
  #statusError(call: Call, answer: LayerResponse): HttpError {
    const details = {
      ...call.info(call.attempts, this.#o.clock),
      status: answer.status,
      statusText: answer.statusText,
      body: this.#excerpt(call.req, answer.body),
      headers: answer.headers,
    }
    if (answer.status === 429) return new RateLimitError({ ...details, retryAfter: answer.retryAfter })
    return new HttpError(details)
  }

  #excerpt(req: PreparedRequest, body: Buffer): string {
    if (body.length === 0) return ''
    const text = body
      .subarray(0, EXCERPT * 4)
      .toString('utf8')
      .slice(0, EXCERPT)
    return redactText(text, [...this.#secrets, ...secretValues(req.headers, req.url)])
  }

  #report(req: PreparedRequest, error: unknown): unknown {
    if (this.#emitter.has.error) {
      this.#emitter.emit('error', {
        method: req.method,
        url: shownUrl(req),
        origin: req.origin,
        error: error as Error,
        id: req.id,
      })
    }
    return error
  }
}

/**
 * Without `connections`, HTTP/1.1 connections per origin follow the concurrency: undici would open
 * a new connection whenever a request comes before the last one's socket is marked idle, and every
 * new connection pays its handshakes and makes that request arrive late. HTTP/2 multiplexes instead.
 */
function connectionCap(o: ResolvedClientOptions): number | undefined {
  if (o.http2) return undefined
  const concurrency = o.limiter?.concurrency ?? o.limits.policy.concurrency
  return Number.isFinite(concurrency) ? concurrency : undefined
}

function newManyCall(
  signal: AbortSignal,
  stop: AbortController,
  stopOn: ReadonlySet<number>,
  priority: number | undefined,
): ManyCall {
  const waitSignal = AbortSignal.any([signal, stop.signal])
  // Every queued request of the call listens to it (bounded by the call's concurrency): not a leak.
  setMaxListeners(0, waitSignal)
  const runOptions: RunOptions = { signal: waitSignal, priority, countsFrom: 'sent' }
  return { inFlight: new SignalFanout(signal), stop, stopOn, waitSignal, runOptions }
}

/** A client: see ClientOptions. `await using api = createClient(...)` closes it at the end of the scope. */
export function createClient(options?: ClientOptions): Client {
  return new Client(options)
}
