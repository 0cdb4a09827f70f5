import { describeValue } from '../errors.js'
import { type Cost, costError } from '../limit/cost.js'
import { type Duration, parseDuration } from '../limit/units.js'
import { InvalidRequestError } from './errors.js'
import { redactUrl } from '../redact.js'

/** Query parameters: arrays repeat the name; null and undefined are left out. */
export type Params = Readonly<
  Record<string, string | number | boolean | null | undefined | readonly (string | number | boolean)[]>
>

/** Header values: undefined (or null) removes a header set on the client. */
export type HeaderValues = Readonly<Record<string, string | number | readonly string[] | null | undefined>>

/** A request as an object; every field but `url` is optional. */
export interface RequestObject {
  /** Absolute, or relative to the client's `baseUrl` (appended to its path: '/users' on '…/v1' is '…/v1/users'). */
  url: string | URL
  /** @default 'GET' ('POST' when `json` or `body` is given) */
  method?: string
  params?: Params
  headers?: HeaderValues
  /** Sent as JSON with `content-type: application/json`. Not with `body`. */
  json?: unknown
  /** Sent as is. Not with `json`. */
  body?: string | Uint8Array | ArrayBuffer
  /** Your identifier for this request, carried to its Result and the CLI's output. */
  id?: string | number
  /** Sets the Idempotency-Key header, which also makes a POST safe to retry. */
  idempotencyKey?: string
  /** Per-attempt timeout for this request, overriding the client's. */
  timeout?: Duration
  /**
   * What the request costs against the origin's rates, for budgets in other units than requests:
   * `{ tokens: 1200 }` (requests count 1 unless given). Overrides the client's `cost` function.
   */
  cost?: Cost
}

/** A request: a URL string, a `[url, params]` tuple, or a RequestObject. */
export type RequestSpec = string | URL | readonly [string | URL, Params?] | RequestObject

/** Where specs are resolved: the client's base URL, allowed origins and default headers. */
export interface SpecContext {
  /** baseUrl with its path ending in '/', or undefined. */
  readonly base: URL | undefined
  /** Origins a request may go to; undefined allows any (no baseUrl and no allowOrigins given). */
  readonly origins: ReadonlySet<string> | undefined
  /** The client's headers, lower-cased names. */
  readonly headers: Readonly<Record<string, string | string[]>>
  /** The client's `cost` function, for specs that give no `cost`. */
  readonly cost?: ((spec: RequestSpec) => Cost | undefined) | undefined
}

/** A spec checked and resolved: what the transport sends. */
export interface PreparedRequest {
  readonly method: string
  readonly url: URL
  readonly origin: string
  /** Path and query, as sent on the request line. */
  readonly path: string
  readonly headers: Record<string, string | string[]>
  readonly body: string | Uint8Array | undefined
  readonly id: string | number | undefined
  readonly idempotencyKey: boolean
  /** Per-attempt timeout for this request when it overrides the client's. */
  readonly timeout: number | undefined
  /** What it costs against the rates, when it or the client's `cost` function says. */
  readonly cost?: Cost
  /** The URL as it may be shown (secrets redacted): filled by `shownUrl` on first use. */
  redactedUrl: string | undefined
}

/** The request's URL for messages and events: redacted once per request, and only if it is shown. */
export function shownUrl(req: PreparedRequest): string {
  req.redactedUrl ??= redactUrl(req.url)
  return req.redactedUrl
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i
const METHOD = /^[A-Za-z]+$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const SPEC_KEYS = new Set([
  'url',
  'method',
  'params',
  'headers',
  'json',
  'body',
  'id',
  'idempotencyKey',
  'timeout',
  'cost',
])

function fail(field: string, message: string): never {
  throw new InvalidRequestError(field, message)
}

/** Resolves a URL string against the base: relative paths are appended to the base path. */
export function resolveUrl(target: string | URL, base: URL | undefined, field = 'url'): URL {
  if (target instanceof URL) return new URL(target.href)
  if (typeof target !== 'string' || target === '') {
    fail(field, `\`${field}\` must be a non-empty string or a URL, got ${describeValue(target)}`)
  }
  let url: URL
  if (ABSOLUTE.test(target)) {
    try {
      url = new URL(target)
    } catch {
      fail(field, `\`${field}\` is not a valid URL: ${JSON.stringify(redactUrl(target))}`)
    }
  } else {
    if (!base) {
      fail(
        field,
        `\`${field}\` ${JSON.stringify(redactUrl(target))} is relative, and the client has no baseUrl`,
      )
    }
    try {
      url = new URL(target.startsWith('/') ? target.slice(1) : target, base)
    } catch {
      fail(field, `\`${field}\` ${JSON.stringify(redactUrl(target))} does not resolve against the baseUrl`)
    }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(field, `\`${field}\` must be an http: or https: URL, got ${JSON.stringify(redactUrl(url))}`)
  }
  // undici would drop them silently (they are not Basic auth): say so rather than send without.
  if (url.username || url.password) {
    fail(
      field,
      `\`${field}\` ${JSON.stringify(redactUrl(url))} holds a user name or password, which is not sent: give an Authorization header instead`,
    )
  }
  return url
}

function addParams(url: URL, params: unknown, field: string): void {
  if (params === undefined || params === null) return
  if (typeof params !== 'object' || Array.isArray(params)) {
    fail(field, `\`${field}\` must be an object of query parameters, got ${describeValue(params)}`)
  }
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        fail(
          `${field}.${name}`,
          `\`${field}.${name}\` must be a string, number or boolean, got ${describeValue(v)}`,
        )
      }
      url.searchParams.append(name, String(v))
    }
  }
}

/** Merges the spec's headers over the client's; names are lower-cased, values checked for CR/LF. */
export function mergeHeaders(
  base: Readonly<Record<string, string | string[]>>,
  extra: unknown,
  field = 'headers',
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...base }
  if (extra === undefined || extra === null) return out
  if (typeof extra !== 'object' || Array.isArray(extra)) {
    fail(field, `\`${field}\` must be an object of header values, got ${describeValue(extra)}`)
  }
  for (const [rawName, value] of Object.entries(extra)) {
    const name = rawName.toLowerCase()
    if (!HEADER_NAME.test(name))
      fail(`${field}.${rawName}`, `header name ${JSON.stringify(rawName)} is not a valid token`)
    if (value === undefined || value === null) {
      delete out[name]
      continue
    }
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) {
      if ((typeof v !== 'string' && typeof v !== 'number') || /[\r\n\0]/.test(String(v))) {
        // The value is not shown: it may be a secret.
        fail(`${field}.${name}`, `header \`${name}\` must be a string or number without CR, LF or NUL`)
      }
    }
    out[name] = Array.isArray(value) ? value.map(String) : String(value)
  }
  return out
}

function toBody(value: unknown): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  fail('body', `\`body\` must be a string, Uint8Array or ArrayBuffer, got ${describeValue(value)}`)
}

/** Checks a spec and resolves it against the client, or throws InvalidRequestError naming the field. */
export function prepareRequest(spec: unknown, ctx: SpecContext): PreparedRequest {
  const req = resolveSpec(spec, ctx)
  const given = (spec as { cost?: unknown } | null)?.cost
  const cost = given ?? ctx.cost?.(spec as RequestSpec)
  if (cost === undefined) return req
  const invalid = costError(cost, given === undefined ? "the client's `cost(spec)`" : '`cost`')
  if (invalid) fail('cost', invalid.message)
  return { ...req, cost: cost as Cost }
}

function resolveSpec(spec: unknown, ctx: SpecContext): PreparedRequest {
  if (typeof spec === 'string' || spec instanceof URL)
    return finish(resolveUrl(spec, ctx.base), 'GET', ctx.headers, undefined, undefined, undefined, ctx)
  if (Array.isArray(spec)) {
    if (spec.length < 1 || spec.length > 2) {
      fail('spec', `a tuple spec must be [url] or [url, params], got an array of ${spec.length}`)
    }
    const url = resolveUrl(spec[0], ctx.base, 'url')
    addParams(url, spec[1], 'params')
    return finish(url, 'GET', ctx.headers, undefined, undefined, undefined, ctx)
  }
  if (typeof spec !== 'object' || spec === null) {
    fail(
      'spec',
      `a request spec must be a URL string, a [url, params] tuple or an object with \`url\`, got ${describeValue(spec)}`,
    )
  }
  const obj = spec as Record<string, unknown>
  for (const key of Object.keys(obj)) {
    if (!SPEC_KEYS.has(key)) fail(key, `unknown field \`${key}\` (known: ${[...SPEC_KEYS].join(', ')})`)
  }
  if (obj.url === undefined) fail('url', 'the spec has no `url`')
  const url = resolveUrl(obj.url as string | URL, ctx.base)
  addParams(url, obj.params, 'params')
  const headers = mergeHeaders(ctx.headers, obj.headers)
  if (obj.json !== undefined && obj.body !== undefined) fail('body', 'give `json` or `body`, not both')
  let body: string | Uint8Array | undefined
  if (obj.json !== undefined) {
    try {
      body = JSON.stringify(obj.json)
    } catch (error) {
      fail('json', `\`json\` cannot be serialized: ${(error as Error).message}`)
    }
    if (body === undefined) fail('json', `\`json\` cannot be serialized: got ${describeValue(obj.json)}`)
    headers['content-type'] ??= 'application/json'
  } else if (obj.body !== undefined) {
    body = toBody(obj.body)
  }
  let method = body === undefined ? 'GET' : 'POST'
  if (obj.method !== undefined) {
    if (typeof obj.method !== 'string' || !METHOD.test(obj.method)) {
      fail(
        'method',
        `\`method\` must be an HTTP method name such as 'GET' or 'POST', got ${describeValue(obj.method)}`,
      )
    }
    method = obj.method.toUpperCase()
  }
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
    fail('body', `a ${method} request cannot have a body (\`json\` or \`body\`)`)
  }
  if (obj.idempotencyKey !== undefined) {
    if (
      typeof obj.idempotencyKey !== 'string' ||
      obj.idempotencyKey === '' ||
      /[\r\n\0]/.test(obj.idempotencyKey)
    ) {
      fail(
        'idempotencyKey',
        `\`idempotencyKey\` must be a non-empty string, got ${describeValue(obj.idempotencyKey)}`,
      )
    }
    headers['idempotency-key'] = obj.idempotencyKey
  }
  const id = obj.id
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') {
    fail('id', `\`id\` must be a string or a number, got ${describeValue(id)}`)
  }
  let timeout: number | undefined
  if (obj.timeout !== undefined) {
    try {
      timeout = parseDuration(obj.timeout, '`timeout`')
    } catch (error) {
      fail('timeout', (error as Error).message)
    }
    if (!(timeout > 0))
      fail('timeout', `\`timeout\` must be more than 0 ms, got ${describeValue(obj.timeout)}`)
  }
  return finish(url, method, headers, body, id, timeout, ctx)
}

function finish(
  url: URL,
  method: string,
  headers: Record<string, string | string[]> | Readonly<Record<string, string | string[]>>,
  body: string | Uint8Array | undefined,
  id: string | number | undefined,
  timeout: number | undefined,
  ctx: SpecContext,
): PreparedRequest {
  const origin = url.origin
  // Client headers (often credentials) go only where the user said requests may go.
  if (ctx.origins && !ctx.origins.has(origin)) {
    fail(
      'url',
      `${JSON.stringify(redactUrl(url))} is on origin ${origin}, which is neither the baseUrl's nor in allowOrigins`,
    )
  }
  return {
    method,
    url,
    origin,
    path: `${url.pathname}${url.search}`,
    headers: headers as Record<string, string | string[]>,
    body,
    id,
    idempotencyKey: headers['idempotency-key'] !== undefined,
    timeout,
    redactedUrl: undefined,
  }
}
