/**
 * The public shape of the client's request pipeline: layers around one `send` step, as undici's
 * `dispatch => dispatch` interceptors are. A layer gets the next step and returns its own; calling
 * `next` again is one more attempt, and every attempt passes through the origin's limiter.
 */

/** One request on its way through the layers: the same object on every attempt. */
export interface LayerRequest {
  readonly method: string
  readonly url: URL
  readonly origin: string
  /** Headers as they will be sent. A layer may change them (a refreshed token) before calling `next`. */
  readonly headers: Record<string, string | string[]>
  readonly body: string | Uint8Array | undefined
  /** The spec's `id`, when it had one. */
  readonly id: string | number | undefined
  /** Attempts made so far: 0 while the first has not been sent; each call of `next` makes one more. */
  readonly attempts: number
}

/**
 * What an attempt answered, any status, body read in full. An error status is an answer here: it
 * becomes an HttpError (or RateLimitError) only after the outermost layer.
 */
export interface LayerResponse {
  readonly status: number
  readonly statusText: string
  readonly headers: Record<string, string | string[]>
  readonly body: Buffer
  /** The URL that answered (after redirects). */
  readonly url: URL
  /** Ms the server asked to wait (Retry-After), on a 429 or 503 that said. */
  readonly retryAfter: number | undefined
}

/** One step of the pipeline: sends the request (through what lies below) and settles with its answer. */
export type Send = (request: LayerRequest) => Promise<LayerResponse>

/**
 * Wraps the steps below it. Your layers sit between the retry policy (above them) and the origin's
 * limiter (below): pass on the request you were given, changed in place if need be.
 */
export type Layer = (next: Send) => Send
