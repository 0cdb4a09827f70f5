import { isSecretParam, secretValues } from '../redact.js'
import type { HeaderValues, Params, RequestObject, RequestSpec } from '../http/spec.js'
import type { ResultMeta } from './output/record.js'

/** Methods that are not idempotent: volley gives each such request an Idempotency-Key. */
const UNSAFE = new Set(['POST', 'PATCH'])

export interface RequestDefaults {
  /** Method of plain URLs and [url, params] tuples. */
  method: string
  /** Stable across resumes of the same job, so a server can recognise a request sent again. */
  runId: string
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
 * a POST or PATCH without its own key gets `Idempotency-Key: volley-<runId>-<line>`, the same on every
 * attempt and every resume, so a server that honours the header runs it once however often it is
 * sent; the client also retries such a POST, since a repeat is then safe. Fields are not validated
 * here: the client checks them and its error (with the line number added) becomes the result.
 */
export function prepareLine(spec: RequestSpec, line: number, defaults: RequestDefaults): PreparedLine {
  let request: RequestObject | RequestSpec
  if (typeof spec === 'string') request = { url: spec, method: defaults.method }
  else if (Array.isArray(spec) && spec.length >= 1 && spec.length <= 2) {
    request = { url: spec[0] as string, params: spec[1] as Params | undefined, method: defaults.method }
  } else if (typeof spec === 'object' && spec !== null && !Array.isArray(spec))
    request = { ...(spec as RequestObject) }
  else return { spec, meta: { id: line, index: line }, secrets: defaults.secrets }

  const obj = request as RequestObject
  const id = typeof obj.id === 'string' || typeof obj.id === 'number' ? obj.id : line
  const method =
    typeof obj.method === 'string'
      ? obj.method.toUpperCase()
      : obj.json !== undefined || obj.body !== undefined
        ? 'POST'
        : 'GET'
  if (UNSAFE.has(method) && obj.idempotencyKey === undefined && !hasHeader(obj.headers, 'idempotency-key')) {
    obj.idempotencyKey = `volley-${defaults.runId}-${line}`
  }
  const own = lineSecrets(obj)
  return {
    spec: obj,
    meta: { id, index: line },
    secrets: own.length > 0 ? [...defaults.secrets, ...own] : defaults.secrets,
  }
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
