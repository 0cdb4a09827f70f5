import { isSecretHeader, isSecretParam, secretValues } from '../redact.js'
import { InvalidRequestError } from '../http/errors.js'
import {
  type HeaderValues,
  type Params,
  type PreparedRequest,
  prepareRequest,
  type RequestObject,
  type RequestSpec,
} from '../http/spec.js'
import { digest } from './fingerprint.js'
import type { ResultMeta } from './output/record.js'

/** Methods that are not idempotent: volley gives each such request an Idempotency-Key. */
const UNSAFE = new Set(['POST', 'PATCH'])

export interface RequestDefaults {
  /** Method of plain URLs and [url, params] tuples. */
  method: string
  /** The job's id (--run-id, or the output's job line): the same on every resume, new for a new job. */
  job: string
  /** --base-url as requests resolve against it, so its spelling ('…/v1' or '…/v1/') cannot change a key. */
  base: URL | undefined
  /** Secret values redacted from every output line (the CLI's own headers). */
  secrets: readonly string[]
}

export interface PreparedLine {
  spec: RequestSpec
  meta: ResultMeta
  /** The run's secrets plus those this line's own headers carry. */
  secrets: readonly string[]
}

/**
 * Turns an input spec into what the client is given: plain URLs and tuples take the --method;
 * a POST or PATCH without its own key gets an Idempotency-Key (see `idempotencyKey`), the same on every
 * attempt and every resume, so a server that honours the header runs it once however often it is
 * sent; the client also retries such a POST, since a repeat is then safe. Fields are not validated
 * here: the client checks them and its error (with the line number added) becomes the result.
 */
export function prepareLine(
  spec: RequestSpec,
  at: { index: number; hash: string },
  defaults: RequestDefaults,
): PreparedLine {
  const line = at.index
  let request: RequestObject | RequestSpec
  if (typeof spec === 'string') request = { url: spec, method: defaults.method }
  else if (Array.isArray(spec) && spec.length >= 1 && spec.length <= 2) {
    request = { url: spec[0] as string, params: spec[1] as Params | undefined, method: defaults.method }
  } else if (typeof spec === 'object' && spec !== null && !Array.isArray(spec))
    request = { ...(spec as RequestObject) }
  else return { spec, meta: { id: line, index: at.index, hash: at.hash }, secrets: defaults.secrets }

  const obj = request as RequestObject
  const id = typeof obj.id === 'string' || typeof obj.id === 'number' ? obj.id : line
  const method =
    typeof obj.method === 'string'
      ? obj.method.toUpperCase()
      : obj.json !== undefined || obj.body !== undefined
        ? 'POST'
        : 'GET'
  if (UNSAFE.has(method) && obj.idempotencyKey === undefined && !hasHeader(obj.headers, 'idempotency-key')) {
    const key = idempotencyKey(obj, line, defaults)
    if (key !== undefined) obj.idempotencyKey = key
  }
  const own = lineSecrets(obj)
  return {
    spec: obj,
    meta: { id, index: at.index, hash: at.hash },
    secrets: own.length > 0 ? [...defaults.secrets, ...own] : defaults.secrets,
  }
}

/**
 * `volley-<job>-<line>-<hash of what is sent>`: the method, the resolved URL (params included), the
 * body and the line's own headers but secret ones (a rotated token leaves the request the same). The
 * same line of a job always sends the same request under the same key; a changed line or another job
 * never reuses one. Two identical lines are two requests (two orders): the line number tells them
 * apart. Undefined for a spec the client refuses anyway (it fails with the client's error).
 */
function idempotencyKey(obj: RequestObject, line: number, defaults: RequestDefaults): string | undefined {
  let req: PreparedRequest
  try {
    req = prepareRequest(obj, { base: defaults.base, origins: undefined, headers: {} })
  } catch (error) {
    if (error instanceof InvalidRequestError) return undefined
    throw error
  }
  const headers = Object.entries(req.headers)
    .filter(([name]) => !isSecretHeader(name))
    .map(([name, value]) => `${name}: ${[value].flat().join(', ')}`)
    .sort()
  return `volley-${defaults.job}-${line}-${digest([req.method, req.url.href, req.body ?? '', ...headers])}`
}

/** Whether an input line carries a secret of its own (a secret header, or a secret query parameter). */
export function carriesSecrets(spec: RequestSpec): boolean {
  if (typeof spec === 'string') return lineSecrets({ url: spec }).length > 0
  if (Array.isArray(spec))
    return lineSecrets({ url: spec[0] as string, params: spec[1] as Params }).length > 0
  return typeof spec === 'object' && spec !== null && lineSecrets(spec as RequestObject).length > 0
}

/** Secrets the line itself carries: its secret headers, and secret query parameters in its params or URL. */
function lineSecrets(obj: RequestObject): string[] {
  const out = obj.headers ? secretValues(obj.headers as Record<string, string>) : []
  if (obj.params && typeof obj.params === 'object') {
    for (const [name, value] of Object.entries(obj.params)) {
      if (value !== null && value !== undefined && isSecretParam(name))
        out.push(...[value].flat().map(String))
    }
  }
  const url = typeof obj.url === 'string' ? obj.url : ''
  if (url.includes('?')) {
    try {
      out.push(...secretValues(undefined, new URL(url, 'http://base.invalid')))
    } catch {
      // An invalid URL fails in the client, whose message redacts it.
    }
  }
  return out
}

function hasHeader(headers: HeaderValues | undefined, name: string): boolean {
  if (!headers || typeof headers !== 'object') return false
  return Object.keys(headers).some((key) => key.toLowerCase() === name)
}
