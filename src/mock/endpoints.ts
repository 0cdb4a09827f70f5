import { MockRequestError } from './choices.js'
import { JSON_TYPE, type MockExchange } from './exchange.js'
import type { MockContext } from './handler.js'
import { hashString } from './random.js'

/** GET /json: one fixed small body, built once, so throughput benchmarks measure the client. */
const JSON_BODY = Buffer.from('{"id":1,"name":"volley","ok":true,"tags":["fast","polite"]}')

export function fixedJson(exchange: MockExchange): void {
  exchange.send(200, JSON_BODY, JSON_TYPE)
}

/**
 * /anything[/...]: echoes what arrived, like httpbin, so a test can see what a client sent
 * (`httpVersion` tells the protocol: '1.1' or '2.0'; over HTTP/2 `headers` has the pseudo-headers).
 */
export async function echo(exchange: MockExchange, { options }: MockContext): Promise<void> {
  const { req } = exchange
  const data = await exchange.readText()
  let json: unknown = null
  if (data !== '') {
    try {
      json = JSON.parse(data)
    } catch {
      // Not JSON: the raw text is still echoed as `data`.
    }
  }
  const headers = { ...req.headers }
  // The server's own token is never echoed back, whatever else is.
  if (options.auth !== undefined && headers.authorization === `Bearer ${options.auth}`) {
    headers.authorization = 'Bearer [redacted]'
  }
  exchange.json(200, {
    method: req.method,
    httpVersion: req.httpVersion,
    path: exchange.path,
    query: queryObject(exchange.query),
    headers,
    json,
    data,
  })
}

/** Query parameters as an object; a repeated name gives an array of its values. */
function queryObject(query: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {}
  for (const [name, value] of new URLSearchParams(query)) {
    const existing = result[name]
    if (existing === undefined) result[name] = value
    else if (Array.isArray(existing)) existing.push(value)
    else result[name] = [existing, value]
  }
  return result
}

/** /status/:code: answers with that status (200 to 599) and `{ status }`. */
export function status(exchange: MockExchange): void {
  const code = requestNumber(exchange.params[0]!, 'status code', 200, 599)
  exchange.json(code, { status: code })
}

const MAX_DELAY = 600_000

/** /delay/:ms: answers `{ delayed: ms }` after that many milliseconds (on top of any latency). */
export function delay(exchange: MockExchange): void {
  const ms = requestNumber(exchange.params[0]!, 'delay in ms', 0, MAX_DELAY)
  exchange.after(ms, () => exchange.json(200, { delayed: ms }))
}

const CATEGORIES = ['books', 'garden', 'kitchen', 'music', 'tools', 'toys']
const RECORD_EPOCH = Date.UTC(2025, 0, 1)

/** GET /items/:id: a record derived from the id alone, so repeated and parallel pulls agree. */
export function item(exchange: MockExchange): void {
  const id = decodeSegment(exchange.params[0]!)
  const hash = hashString(id)
  exchange.json(200, {
    id,
    name: `Item ${id}`,
    category: CATEGORIES[hash % CATEGORIES.length],
    price: (hash % 100_000) / 100,
    stock: (hash >>> 8) % 500,
    updatedAt: new Date(RECORD_EPOCH + (hash % 31_536_000) * 1000).toISOString(),
  })
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** /redirect-to?url=<target>&status=<3xx>: for testing what a client does across redirects. */
export function redirect(exchange: MockExchange): void {
  const params = new URLSearchParams(exchange.query)
  const target = params.get('url')
  if (!target) throw new MockRequestError(400, 'redirect-to needs a ?url= to redirect to')
  const code = requestNumber(params.get('status') ?? '302', 'redirect status', 301, 308)
  if (!REDIRECT_STATUSES.has(code)) {
    throw new MockRequestError(400, `redirect status must be one of ${[...REDIRECT_STATUSES].join(', ')}`)
  }
  exchange.json(code, { location: target }, { location: target })
}

/** A whole number from a path or query, else a 400 naming what it is and the bounds. */
export function requestNumber(text: string, what: string, min: number, max: number): number {
  const value = Number(text)
  if (/^\d+$/.test(text) && value >= min && value <= max) return value
  throw new MockRequestError(
    400,
    `${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
  )
}

/** A percent-decoded path segment, else a 400. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new MockRequestError(400, `bad percent-encoding in ${JSON.stringify(segment)}`)
  }
}
