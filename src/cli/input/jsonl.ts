import type { RequestSpec } from '../../http/spec.js'
import { type InputEntry, InputError } from './entry.js'
import { type InputLine, isSkippable } from './lines.js'

const JSON_START = new Set(['{', '[', '"'])
/** JSON values that are no request (what `jq .url` prints for a record without one, say). */
const JSON_LITERAL = /^(?:null|true|false|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/

/**
 * A line of JSON Lines as a request spec: a JSON string (a URL), a `[url, params]` tuple or an object
 * `{ url, method, params, headers, json, body, id }`. A line that does not start like JSON is taken
 * as a plain URL, so a file of URLs is valid JSONL input too. The spec's fields are checked by the
 * client when it prepares the request; here only the JSON itself. Undefined for a blank or comment line.
 */
export function jsonlEntry({ line, text, error }: InputLine): InputEntry | undefined {
  if (error) return { line, error }
  if (isSkippable(text)) return undefined
  const trimmed = text.trim()
  if (!JSON_START.has(trimmed[0]!) && !JSON_LITERAL.test(trimmed)) return { line, spec: trimmed }
  let value: unknown
  try {
    value = JSON.parse(trimmed)
  } catch (error) {
    return { line, error: new InputError(line, `not valid JSON: ${(error as Error).message}`) }
  }
  if (typeof value === 'string' || Array.isArray(value) || (typeof value === 'object' && value !== null)) {
    return { line, spec: value as RequestSpec }
  }
  return {
    line,
    error: new InputError(
      line,
      'a request must be a URL string, a [url, params] array or an object with `url`',
    ),
  }
}

/** A line of a list of URLs, taken as is (no JSON): for URLs that may start with '"' or '['. */
export function urlEntry({ line, text, error }: InputLine): InputEntry | undefined {
  if (error) return { line, error }
  return isSkippable(text) ? undefined : { line, spec: text.trim() }
}
