import type { OutgoingHttpHeaders } from 'node:http'
import type { Clock, TimerHandle } from '../limit/clock.js'
import { MockRequestError } from './choices.js'
import type { LlmRequest, QuotaVerdict } from './profiles/quota.js'
import type { StatsRecorder } from './stats.js'
import { dropRequest, type MockRequest, type MockResponse, responseGone } from './wire.js'

export const JSON_TYPE = 'application/json; charset=utf-8'
const MAX_BODY_BYTES = 1_048_576

/** Writes a whole response: the only place the mock sets status, length and type. */
export function writeBody(
  res: MockResponse,
  status: number,
  body: string | Buffer,
  contentType: string,
  headers?: OutgoingHttpHeaders,
): void {
  // These statuses may carry neither a body nor a Content-Length.
  if (status === 204 || status === 304) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

/**
 * One request on its way through the mock: it leaves flight exactly once, however it ends (a
 * response, a reset, the client going away, the server closing), and the stats hear of it then.
 * A response is counted as departed before its bytes are written, so a client that starts its next
 * request on seeing a response can never make the server count one more in flight than it sent.
 */
export class MockExchange {
  readonly req: MockRequest
  readonly res: MockResponse
  readonly path: string
  /** The raw query string, without '?'. */
  readonly query: string
  /** Path segments captured by the route's `:name` and `*` parts. */
  params: readonly string[] = []
  /** Quota headers from the rate limit, sent with whatever response this request gets. */
  quotaHeaders: Record<string, string> | undefined
  /** An LLM endpoint's request, read from the body before admission (its token cost is there). */
  llm: LlmRequest | undefined
  /** Settles the quota's token charge to what the request used; gives the new quota headers. */
  settle: QuotaVerdict['settle']
  readonly #stats: StatsRecorder
  readonly #clock: Clock
  #settled = false
  #timer: TimerHandle | undefined

  constructor(
    req: MockRequest,
    res: MockResponse,
    target: { path: string; query: string },
    stats: StatsRecorder,
    clock: Clock,
    serverClosing: () => boolean,
  ) {
    this.req = req
    this.res = res
    this.path = target.path
    this.query = target.query
    this.#stats = stats
    this.#clock = clock
    res.on('close', () => {
      if (this.#timer !== undefined) clock.clearTimer(this.#timer)
      if (this.#settled) return
      this.#settled = true
      stats.depart(undefined)
      if (!serverClosing()) stats.count('aborted')
    })
  }

  /** True once the request has left flight: nothing more may be written. */
  get settled(): boolean {
    return this.#settled
  }

  json(status: number, body: unknown, headers?: OutgoingHttpHeaders): void {
    this.send(status, JSON.stringify(body), JSON_TYPE, headers)
  }

  send(status: number, body: string | Buffer, contentType: string, headers?: OutgoingHttpHeaders): void {
    if (this.#leave(status)) {
      writeBody(
        this.res,
        status,
        body,
        contentType,
        this.quotaHeaders ? { ...this.quotaHeaders, ...headers } : headers,
      )
    }
  }

  /** Answers a failed handler: its own status for a MockRequestError, 500 for a bug. */
  fail(error: unknown): void {
    if (error instanceof MockRequestError) {
      this.json(error.status, { error: error.message })
    } else {
      this.json(500, {
        error: `mock server error: ${error instanceof Error ? error.message : String(error)}`,
      })
    }
  }

  /** Runs `fn` after `ms`, unless the request is gone by then. */
  after(ms: number, fn: () => void): void {
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined
      if (!this.#settled) fn()
    }, ms)
  }

  /** Breaks off without a response: the connection (HTTP/1.1) or the stream (HTTP/2), see dropRequest. */
  reset(): void {
    if (!this.#leave(undefined)) return
    this.#stats.count('resets')
    dropRequest(this.req)
  }

  /** Never answers: the request stays in flight until the client gives up or the server closes. */
  hang(): void {
    this.#stats.count('hangs')
  }

  /** Reads the request body as JSON; 400 when it is not JSON, 413 past 1 MiB. */
  async readJson(): Promise<unknown> {
    const text = await this.readText()
    if (text === '') throw new MockRequestError(400, 'expected a JSON request body, got an empty body')
    try {
      return JSON.parse(text)
    } catch {
      throw new MockRequestError(400, 'the request body is not valid JSON')
    }
  }

  async readText(): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_BODY_BYTES)
        throw new MockRequestError(413, `the request body is over ${MAX_BODY_BYTES} bytes`)
      chunks.push(chunk)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  /** Takes the request out of flight; false if it already was. */
  #leave(status: number | undefined): boolean {
    if (this.#settled || responseGone(this.res)) return false
    this.#settled = true
    this.#stats.depart(status)
    return true
  }
}
