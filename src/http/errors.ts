import {
  AbortError,
  type ClosedError,
  type InvalidOptionError,
  type StoreError,
  VolleyError,
} from '../errors.js'
import { redactHeaders } from '../redact.js'
import type { Timings } from './timings.js'

/** What every error about a request says, so the CLI can write it without knowing its class. */
export interface RequestErrorInfo {
  /** 'GET', 'POST', ... */
  method: string
  /** The request's URL with secrets redacted. */
  url: string
  /** Attempts made (0 when nothing was sent). */
  attempts: number
  /** Ms from the call until it failed, queue waits, retries and backoff included. */
  ms: number
  /** Where the time went (see Response.timings); absent when nothing was asked of the limiter. */
  timings?: Timings
}

/** The serialized form of a request error: what `JSON.stringify(error)` writes. Never holds a secret. */
export interface RequestErrorJSON extends Omit<RequestErrorInfo, 'timings'> {
  name: string
  code: string
  message: string
  status?: number
  retryAfter?: number
  timeout?: number
  body?: string
  cause?: { name: string; code?: string; message: string }
}

function describeAttempts(info: RequestErrorInfo): string {
  return `after ${info.attempts} attempt${info.attempts === 1 ? '' : 's'} (${Math.round(info.ms)} ms)`
}

/** The base of the HTTP client's errors: method, redacted URL, attempts and ms on every one. */
export abstract class RequestError extends VolleyError implements RequestErrorInfo {
  readonly method: string
  readonly url: string
  readonly attempts: number
  readonly ms: number
  readonly timings: Timings | undefined

  constructor(code: string, info: RequestErrorInfo, what: string, options?: ErrorOptions) {
    super(code, `${info.method} ${info.url} ${what} ${describeAttempts(info)}`, options)
    this.method = info.method
    this.url = info.url
    this.attempts = info.attempts
    this.ms = info.ms
    this.timings = info.timings
  }

  toJSON(): RequestErrorJSON {
    const json: RequestErrorJSON = {
      name: this.name,
      code: this.code,
      message: this.message,
      method: this.method,
      url: this.url,
      attempts: this.attempts,
      ms: Math.round(this.ms),
    }
    const cause = this.cause
    if (cause instanceof Error) {
      const code = causeCode(cause)
      json.cause = { name: cause.name, message: cause.message, ...(code !== undefined ? { code } : {}) }
    }
    return json
  }
}

/** The server answered with an error status (and retries, if any, did not help). */
export class HttpError extends RequestError {
  declare readonly code: 'HTTP' | 'RATE_LIMITED'
  readonly status: number
  readonly statusText: string
  /** The start of the response body (at most 500 characters, secrets redacted). */
  readonly body: string
  /** Response headers of the last attempt. */
  readonly headers: Readonly<Record<string, string | string[]>>

  constructor(
    info: RequestErrorInfo & {
      status: number
      statusText?: string
      body?: string
      headers?: Record<string, string | string[]>
    },
    code = 'HTTP',
    what = `answered ${info.status}${info.statusText ? ` ${info.statusText}` : ''}`,
  ) {
    super(code, info, what)
    this.status = info.status
    this.statusText = info.statusText ?? ''
    this.body = info.body ?? ''
    // Response headers can carry secrets too (set-cookie), and errors get logged whole.
    this.headers = info.headers ? (redactHeaders(info.headers) as Record<string, string | string[]>) : {}
  }

  override toJSON(): RequestErrorJSON {
    return { ...super.toJSON(), status: this.status, ...(this.body ? { body: this.body } : {}) }
  }
}

/**
 * 429 Too Many Requests that retries did not get past, or a Retry-After longer than
 * `maxRetryAfter` (volley fails rather than sleeping for hours).
 */
export class RateLimitError extends HttpError {
  declare readonly code: 'RATE_LIMITED'
  /** Ms the server asked to wait (Retry-After), when it said. */
  readonly retryAfter: number | undefined

  constructor(
    info: RequestErrorInfo & {
      status: number
      retryAfter?: number
      body?: string
      headers?: Record<string, string | string[]>
      reason?: string
    },
  ) {
    super(info, 'RATE_LIMITED', info.reason ?? `was rate limited (${info.status})`)
    this.retryAfter = info.retryAfter
  }

  override toJSON(): RequestErrorJSON {
    return { ...super.toJSON(), ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}) }
  }
}

/** An attempt took longer than `timeout` (from sending to the end of the body). */
export class TimeoutError extends RequestError {
  declare readonly code: 'TIMEOUT'
  /** The per-attempt timeout in ms. */
  readonly timeout: number

  constructor(info: RequestErrorInfo & { timeout: number }) {
    super('TIMEOUT', info, `timed out: no complete response within ${info.timeout} ms`)
    this.timeout = info.timeout
  }

  override toJSON(): RequestErrorJSON {
    return { ...super.toJSON(), timeout: this.timeout }
  }
}

/** The string `code` of an error (Node's ECONNRESET, undici's UND_ERR_*), if it has one. */
export function causeCode(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** The connection failed: refused, reset, closed mid-response, DNS. The socket error is the `cause`. */
export class NetworkError extends RequestError {
  declare readonly code: 'NETWORK'
  constructor(info: RequestErrorInfo, cause: Error) {
    const code = causeCode(cause)
    super('NETWORK', info, `failed: ${code !== undefined ? `${code} ` : ''}${cause.message}`, { cause })
  }
}

/** The response body grew past `maxBodySize`: the request is abandoned (never retried). */
export class BodyTooLargeError extends RequestError {
  declare readonly code: 'BODY_TOO_LARGE'
  readonly limit: number

  constructor(info: RequestErrorInfo & { limit: number }) {
    super('BODY_TOO_LARGE', info, `answered with a body larger than maxBodySize (${info.limit} bytes)`)
    this.limit = info.limit
  }
}

/**
 * The origin refused attempt after attempt (429s, 5xx) and its circuit is open: the request was not
 * sent. After `retryIn` ms one request probes the origin again.
 */
export class CircuitOpenError extends RequestError {
  declare readonly code: 'CIRCUIT_OPEN'
  readonly origin: string
  /** Refusals in a row that opened the circuit. */
  readonly failures: number
  /** Ms until a request may probe the origin. */
  readonly retryIn: number

  constructor(info: RequestErrorInfo & { origin: string; failures: number; retryIn: number }) {
    super(
      'CIRCUIT_OPEN',
      info,
      `was not sent: ${info.origin} refused ${info.failures} attempts in a row (429/5xx), circuit open for ${Math.ceil(info.retryIn / 1000)} s more`,
    )
    this.origin = info.origin
    this.failures = info.failures
    this.retryIn = info.retryIn
  }
}

/** Why a redirect was not followed (see RedirectError). */
export type RedirectReason = 'too-many' | 'no-location' | 'invalid-location' | 'scheme' | 'cross-origin-body'

const REDIRECT_REASONS: Record<RedirectReason, string> = {
  'too-many': 'redirected more than maxRedirects times (a loop?)',
  'no-location': 'redirected without a Location header',
  'invalid-location': 'redirected to a Location that is not a URL',
  scheme: 'redirected to a URL that is not http(s)',
  'cross-origin-body': 'redirected to another origin with its body (307/308): the body is not re-sent there',
}

/**
 * A redirect was not followed: too many hops, no or a bad Location, a scheme other than http(s),
 * or a 307/308 that would re-send a request body to another origin. Never a success, never retried;
 * `maxRedirects: 0` asks for the 3xx itself, as a Response.
 */
export class RedirectError extends RequestError {
  declare readonly code: 'REDIRECT'
  readonly status: number
  readonly reason: RedirectReason
  /** The Location it pointed to, secrets redacted (undefined when there was none). */
  readonly location: string | undefined

  constructor(
    info: RequestErrorInfo & { status: number; reason: RedirectReason; location: string | undefined },
  ) {
    super(
      'REDIRECT',
      info,
      `${REDIRECT_REASONS[info.reason]} (${info.status}${info.location ? ` to ${info.location}` : ''})`,
    )
    this.status = info.status
    this.reason = info.reason
    this.location = info.location
  }

  override toJSON(): RequestErrorJSON {
    return { ...super.toJSON(), status: this.status }
  }
}

/** A request spec is invalid; told before anything is sent. The message names the field and the value. */
export class InvalidRequestError extends VolleyError {
  declare readonly code: 'INVALID_REQUEST'
  /** The field at fault: 'url', 'method', 'params.q', 'headers.x-id', 'json'... */
  readonly field: string

  constructor(field: string, message: string) {
    super('INVALID_REQUEST', `Invalid request: ${message}`)
    this.field = field
  }

  toJSON(): { name: string; code: string; message: string; field: string } {
    return { name: this.name, code: this.code, message: this.message, field: this.field }
  }
}

/** An AbortError that also says which request was cancelled. */
export function requestAbortError(info: RequestErrorInfo, reason: AbortError): AbortError & RequestErrorInfo {
  const error = new AbortError(
    `${info.method} ${info.url} ${reason.message.replace(/^Aborted: /, 'aborted: ')}`,
    { cause: reason, stop: reason.stop },
  ) as AbortError & RequestErrorInfo
  Object.assign(error, info)
  return error
}

/**
 * Every error a client request settles with. Each has its own `code`, so `switch (error.code)`
 * narrows to its class: `case 'HTTP'` has `status` and `body`, `case 'RATE_LIMITED'` `retryAfter`.
 * (A layer of yours that throws errors of its own adds them to what a result can hold.)
 */
export type ClientError =
  | (HttpError & { readonly code: 'HTTP' })
  | RateLimitError
  | TimeoutError
  | NetworkError
  | BodyTooLargeError
  | RedirectError
  | CircuitOpenError
  | InvalidRequestError
  | (AbortError & Partial<RequestErrorInfo>)
  | ClosedError
  | StoreError
  | InvalidOptionError

/** Where a list of pages failed: the list's position in `paginateAll`'s input (none for `paginate`) and the page, from 0. */
export interface PageErrorInfo {
  list: number | undefined
  page: number
  /** The request the page asked for next, secrets redacted. */
  url: string
}

/** A list of pages stopped before its end: a `next` that loops, or more pages than `maxPages`. */
export abstract class PageError extends VolleyError implements PageErrorInfo {
  readonly list: number | undefined
  readonly page: number
  readonly url: string

  constructor(code: string, info: PageErrorInfo, what: string) {
    const where = info.list === undefined ? 'paginate' : `paginateAll list ${info.list}`
    super(code, `${where}: page ${info.page} (from 0) ${what}: ${info.url}`)
    this.list = info.list
    this.page = info.page
    this.url = info.url
  }
}

/** A `next` asked for a request the list already made (same method, URL and body): it would never end. */
export class PageLoopError extends PageError {
  declare readonly code: 'PAGE_LOOP'
  constructor(info: PageErrorInfo) {
    super('PAGE_LOOP', info, 'asks for a page the list already fetched (a `next` loop)')
  }
}

/** A list had more pages than `maxPages`. */
export class MaxPagesError extends PageError {
  declare readonly code: 'MAX_PAGES'
  readonly maxPages: number
  constructor(info: PageErrorInfo & { maxPages: number }) {
    super('MAX_PAGES', info, `asks for one more page past maxPages (${info.maxPages})`)
    this.maxPages = info.maxPages
  }
}
