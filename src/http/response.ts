import { redactUrl } from '../redact.js'
import type { Timings } from './timings.js'

/** Response headers: lower-cased names; a repeated header is an array. */
export type ResponseHeaders = Readonly<Record<string, string | string[]>>

/** A response with its body read in full (bounded by `maxBodySize`). */
export class Response {
  readonly status: number
  readonly statusText: string
  readonly headers: ResponseHeaders
  /** The URL that answered (after redirects). */
  readonly url: string
  /** Attempts it took (1 when the first succeeded). */
  readonly attempts: number
  /** Ms from the call to the end of the body: limiter waits, retries and backoff included. */
  readonly ms: number
  /** Where the time went: when the call was made, and each attempt's wait for its turn and latency. */
  readonly timings: Timings
  /** The spec's `id`, when it had one. */
  readonly id: string | number | undefined
  readonly #body: Buffer

  constructor(init: {
    status: number
    statusText: string
    headers: ResponseHeaders
    url: string
    attempts: number
    ms: number
    timings: Timings
    id: string | number | undefined
    body: Buffer
  }) {
    this.status = init.status
    this.statusText = init.statusText
    this.headers = init.headers
    this.url = init.url
    this.attempts = init.attempts
    this.ms = init.ms
    this.timings = init.timings
    this.id = init.id
    this.#body = init.body
  }

  /** True for 2xx. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300
  }

  /** The body parsed as JSON (throws a SyntaxError naming the URL if it is not JSON). */
  json<T = unknown>(): T {
    const text = this.text()
    try {
      return JSON.parse(text) as T
    } catch (error) {
      throw new SyntaxError(
        `The body of ${this.status} from ${redactUrl(this.url)} is not valid JSON: ${(error as Error).message}`,
      )
    }
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return this.#body.toString('utf8')
  }

  /** The raw body. */
  bytes(): Uint8Array {
    return this.#body
  }
}
