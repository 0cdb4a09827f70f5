import { AbortError, type StopReason } from '../errors.js'
import type { Clock } from '../limit/clock.js'
import { noop, type RunOptions } from '../limit/task.js'
import type { RequestErrorInfo } from './errors.js'
import type { OriginState } from './origins.js'
import type { LayerRequest, LayerResponse } from './pipeline.js'
import { Response } from './response.js'
import { type CancelSignal, OwnSignal, type SignalFanout } from './signals.js'
import { type PreparedRequest, shownUrl } from './spec.js'
import type { OpenAttemptTiming, Timings } from './timings.js'
import type { AttemptOwner } from './transport.js'

/** An API counts arrivals: an attempt's start counts from when it goes out, not from its turn. */
const COUNTS_FROM_SENT: RunOptions = Object.freeze({ countsFrom: 'sent' })

/** Set while one `all`/`stream`/`group` call runs: what stops it, and what its waits give up on. */
export interface ManyCall {
  /** The call's signal, shared by its requests in flight through one listener. */
  readonly inFlight: SignalFanout
  readonly stop: AbortController
  readonly stopOn: ReadonlySet<number>
  /** Aborts on the call's abort or its stop: for queue waits and backoff, not requests in flight. */
  readonly waitSignal: AbortSignal
  /** How its requests wait in the limiter (its wait signal and priority): one object for the call. */
  readonly runOptions: RunOptions
}

/** Stops the call (once: the first reason stays): what it has not started settles as AbortErrors. */
export function stopMany(many: ManyCall, reason: StopReason): void {
  if (!many.stop.signal.aborted) many.stop.abort(AbortError.stopped(reason))
}

/**
 * One request as the client's own layers see it: the public LayerRequest, plus what they share
 * about it (its origin's state, its call, its signals). Created once per request.
 */
export class Call implements LayerRequest, AttemptOwner {
  readonly req: PreparedRequest
  readonly state: OriginState
  /** Cancels the request in flight: its call's, or its own signal. */
  readonly signal: CancelSignal | undefined
  /** The request's own signal (a single request's): what its waits give up on outside a call. */
  readonly #own: AbortSignal | undefined
  readonly many: ManyCall | undefined
  /** Whether the retry policy would send it again: it also tells undici what may share an h2 connection. */
  readonly resendable: boolean
  /** How it waits in the limiter (its wait signal and priority); its start counts from when it is sent. */
  readonly runOptions: RunOptions
  /** When the request was made, on the client's clock. */
  readonly start: number
  /** Its timings: when it was made (epoch ms), and one entry per attempt, the last one open. */
  readonly timings: { readonly start: number; readonly attempts: OpenAttemptTiming[] }
  /** Attempts sent or under way: each pass through admission adds one. */
  attempts = 0
  /** When the last attempt was written on a connected socket, on the client's clock; -Infinity before. */
  sentAt = Number.NEGATIVE_INFINITY
  /** Tells the origin's limiter that the attempt in its slot is being written on a connected socket. */
  sent: () => void = noop
  readonly #clock: Clock

  constructor(init: {
    clock: Clock
    req: PreparedRequest
    state: OriginState
    /** A single request's own signal; a call's requests have the call's (`many`). */
    signal: AbortSignal | undefined
    many: ManyCall | undefined
    resendable: boolean
    start: number
    /** When it was made in epoch ms (the clock's wall time). */
    wallStart: number
  }) {
    this.#clock = init.clock
    this.req = init.req
    this.state = init.state
    const signal = init.signal
    this.#own = signal
    this.signal = init.many ? init.many.inFlight : signal ? new OwnSignal(signal) : undefined
    this.many = init.many
    this.resendable = init.resendable
    this.start = init.start
    this.timings = { start: init.wallStart, attempts: [] }
    // A request's own cost (tokens) is added at admission, scaled by what the origin has learned.
    this.runOptions = init.many?.runOptions ?? (signal ? { signal, countsFrom: 'sent' } : COUNTS_FROM_SENT)
  }

  get method(): string {
    return this.req.method
  }
  get url(): URL {
    return this.req.url
  }
  get origin(): string {
    return this.req.origin
  }
  get headers(): Record<string, string | string[]> {
    return this.req.headers
  }
  get body(): string | Uint8Array | undefined {
    return this.req.body
  }
  get id(): string | number | undefined {
    return this.req.id
  }

  /** The attempt under way is being written on a connected socket: it leaves now. */
  onSent(): void {
    this.sentAt = this.#clock.now()
    this.sent()
  }

  /** What queue waits and backoff give up on: the call's stop or abort, else the request's signal. */
  get waitSignal(): AbortSignal | undefined {
    return this.many ? this.many.waitSignal : this.#own
  }

  /** The attempt under way was answered now, with `status`. */
  answered(clock: Clock, status: number): void {
    const timing = this.#ending(clock)
    if (timing) timing.status = status
  }

  /** The attempt under way failed now, with the error `code`. */
  failed(clock: Clock, code: string): void {
    const timing = this.#ending(clock)
    if (timing) timing.error = code
  }

  /** The timing of the attempt under way, its `ms` set to now. */
  #ending(clock: Clock): OpenAttemptTiming | undefined {
    const timing = this.timings.attempts.at(-1)
    if (timing) timing.ms = clock.now() - this.start - timing.at - timing.wait
    return timing
  }

  /** The attempt under way was refused before it went out: it was no attempt, and its timing goes. */
  withdrawn(): void {
    this.timings.attempts.pop()
  }

  /** What an error about this request says, after `attempts` attempts. */
  info(attempts: number, clock: Clock): RequestErrorInfo {
    const timings: Timings = this.timings
    return {
      method: this.req.method,
      url: shownUrl(this.req),
      attempts,
      ms: clock.now() - this.start,
      timings,
    }
  }
}

/** A step of the client's own pipeline: the public Send, on the Call it creates. */
export type CallSend = (call: Call) => Promise<LayerResponse>
/** A layer of the client's own, which reads what the Call carries beyond the public request. */
export type CallLayer = (next: CallSend) => CallSend

/** `answer` to `call`'s attempts so far as the Response the caller gets. */
export function responseTo(call: Call, answer: LayerResponse, clock: Clock): Response {
  return new Response({
    status: answer.status,
    statusText: answer.statusText,
    headers: answer.headers,
    url: answer.url.href,
    attempts: call.attempts,
    ms: clock.now() - call.start,
    timings: call.timings,
    id: call.req.id,
    body: answer.body,
  })
}
