import type { RequestSpec } from '../../http/spec.js'
import { type InputEntry, InputError } from './entry.js'
import { type InputLine, isSkippable } from './lines.js'

const JSON_START = new Set(['{', '[', '"'])
/** JSON values that are no request (what `jq .url` prints for a record without one, say). */
const JSON_LITERAL = /^(?:null|true|false|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)$/

/**
 * JSON Lines of request specs: a JSON string (a URL), a `[url, params]` tuple or an object
 * `{ url, method, params, headers, json, body, id }`. A line that does not start like JSON is taken
 * as a plain URL, so a file of URLs is valid JSONL input too. The spec's fields are checked by the
 * client when it prepares the request; here only the JSON itself.
 */
export async function* readJsonl(lines: AsyncIterable<InputLine>): AsyncGenerator<InputEntry> {
  for await (const { line, text, error } of lines) {
    if (error) {
      yield { line, error }
      continue
    }
    if (isSkippable(text)) continue
    const trimmed = text.trim()
    if (!JSON_START.has(trimmed[0]!) && !JSON_LITERAL.test(trimmed)) {
      yield { line, spec: trimmed }
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(trimmed)
    } catch (error) {
      yield { line, error: new InputError(line, `not valid JSON: ${(error as Error).message}`) }
      continue
    }
    if (typeof value === 'string' || Array.isArray(value) || (typeof value === 'object' && value !== null)) {
      yield { line, spec: value as RequestSpec }
    } else {
      yield {
        line,
        error: new InputError(
          line,
          'a request must be a URL string, a [url, params] array or an object with `url`',
        ),
      }
    }
  }
}

/** One URL per line, taken as is (no JSON): for lists of URLs that may start with '"' or '['. */
export async function* readUrls(lines: AsyncIterable<InputLine>): AsyncGenerator<InputEntry> {
  for await (const { line, text, error } of lines) {
    if (error) yield { line, error }
    else if (!isSkippable(text)) yield { line, spec: text.trim() }
  }
}
