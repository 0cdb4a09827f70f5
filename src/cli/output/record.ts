import { redactBody, redactText } from '../../redact.js'
import { isJsonText } from './json-text.js'
import type { Response } from '../../http/response.js'
import type { AttemptTiming, OpenAttemptTiming, Timings } from '../../http/timings.js'

/** How a response body goes into the output: parsed `json` (else `text`), always `text`, or left out. */
export type BodyMode = 'json' | 'text' | 'none'

/** Which input line a result belongs to. */
export interface ResultMeta {
  /** The spec's `id`, else the line number. */
  id: string | number
  /** The input line number (from 1). */
  index: number
  /** A hash of the line's content: --resume refuses an input whose done lines changed. */
  hash: string
}

/** The fields of an output line, in the order they are written (`id` then `index`: resume relies on it). */
export interface ResultRecord {
  id: string | number
  index: number
  hash: string
  ok: boolean
  status: number | null
  attempts: number
  ms: number
  /** When the request was made (epoch ms); absent for a line that was never a request. */
  start?: number
  /** Each attempt's timing, ms rounded (see AttemptTiming): what `volley report` plots. */
  tries?: AttemptTiming[]
  /** --paginate: the page's position in its list, from 0 (on an error, the page that failed or asked for too many). */
  page?: number
  /** --paginate: the stored URL of the page after this one (secrets redacted), null on the last page. */
  next?: string | null
  /** --paginate --items: how many item lines the page wrote before this record. */
  items?: number
  json?: unknown
  text?: string
  error?: { code: string; message: string; status?: number; body?: string }
}

/**
 * A response as an output record. The secrets this run sent are removed from the body before it is
 * parsed: an echo API (or a careless one) may send them back, and they must not land in the file.
 * Only those values, as redactBody finds them: the rest of the body is written as received.
 */
export function responseRecord(
  response: Response,
  meta: ResultMeta,
  mode: BodyMode,
  secrets: readonly string[],
): ResultRecord {
  const record: ResultRecord = {
    id: meta.id,
    index: meta.index,
    hash: meta.hash,
    ok: true,
    status: response.status,
    attempts: response.attempts,
    ms: Math.round(response.ms),
    start: Math.round(response.timings.start),
    tries: roundedTries(response.timings.attempts),
  }
  if (mode === 'none') return record
  const text = redactBody(response.text(), secrets)
  if (mode === 'json' && isJsonText(text)) {
    // Valid JSON is written as received, not parsed and serialized again (half the work per line);
    // line breaks can only be whitespace between tokens in valid JSON, so they become spaces.
    record.json = new RawJson(/[\r\n]/.test(text) ? text.replace(/[\r\n]/g, ' ') : text)
    return record
  }
  // Not JSON (or cut short, like the mock's `malformed` fault): kept as text, nothing is lost.
  record.text = text
  return record
}

/** A response body already checked to be JSON on one line: `recordLine` splices it in as is. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A failed request, or an input line that is not a request, as an output record. */
export function errorRecord(error: Error, meta: ResultMeta, secrets: readonly string[]): ResultRecord {
  const e = error as Error & {
    code?: unknown
    status?: unknown
    attempts?: unknown
    ms?: unknown
    body?: unknown
    timings?: Timings
  }
  const code = typeof e.code === 'string' ? e.code : 'ERROR'
  // Numbers from any error (a user's layer may throw one with NaN): only finite ones are written.
  const status = isFiniteNumber(e.status) ? e.status : undefined
  let message = redactText(error.message, secrets)
  // The client's spec errors do not know the line; the user needs it to fix the input.
  if (code === 'INVALID_REQUEST') message = `line ${meta.index}: ${message}`
  return {
    id: meta.id,
    index: meta.index,
    hash: meta.hash,
    ok: false,
    status: status ?? null,
    attempts: isFiniteNumber(e.attempts) ? e.attempts : 0,
    ms: isFiniteNumber(e.ms) ? Math.round(e.ms) : 0,
    ...(e.timings ? { start: Math.round(e.timings.start), tries: roundedTries(e.timings.attempts) } : {}),
    error: {
      code,
      message,
      ...(status !== undefined ? { status } : {}),
      ...(typeof e.body === 'string' && e.body !== '' ? { body: redactText(e.body, secrets) } : {}),
    },
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** Each attempt's timing in whole ms: a results file stays short. Fields in the order of AttemptTiming. */
function roundedTries(attempts: readonly AttemptTiming[]): AttemptTiming[] {
  const tries = new Array<AttemptTiming>(attempts.length)
  for (let i = 0; i < attempts.length; i++) {
    const t = attempts[i]!
    const rounded: OpenAttemptTiming = {
      at: Math.round(t.at),
      wait: Math.round(t.wait),
      rate: Math.round(t.rate),
      ms: Math.round(t.ms),
    }
    if (t.status !== undefined) rounded.status = t.status
    if (t.error !== undefined) rounded.error = t.error
    tries[i] = rounded
  }
  return tries
}

/**
 * The record as its output line: what JSON.stringify writes (a test holds the two equal), with a
 * RawJson body spliced in as received. A plain request's record, one per input line, is written
 * field by field (twice as fast); a page's, whose fields come in another order, by JSON.stringify.
 */
export function recordLine(record: ResultRecord): string {
  if (record.page !== undefined) return pageLine(record)
  let line = `{"id":${JSON.stringify(record.id)},"index":${record.index},"hash":${JSON.stringify(record.hash)},"ok":${record.ok},"status":${record.status},"attempts":${record.attempts},"ms":${record.ms}`
  if (record.start !== undefined) line += `,"start":${record.start}`
  if (record.tries !== undefined) line += `,"tries":${triesJson(record.tries)}`
  const json = record.json
  if (json instanceof RawJson) line += `,"json":${json.text}`
  else if (json !== undefined) line += `,"json":${JSON.stringify(json)}`
  if (record.text !== undefined) line += `,"text":${JSON.stringify(record.text)}`
  if (record.error !== undefined) line += `,"error":${JSON.stringify(record.error)}`
  return `${line}}\n`
}

function triesJson(tries: readonly AttemptTiming[]): string {
  let out = '['
  for (let i = 0; i < tries.length; i++) {
    const t = tries[i]!
    out += `${i === 0 ? '' : ','}{"at":${t.at},"wait":${t.wait},"rate":${t.rate},"ms":${t.ms}`
    if (t.status !== undefined) out += `,"status":${t.status}`
    if (t.error !== undefined) out += `,"error":${JSON.stringify(t.error)}`
    out += '}'
  }
  return `${out}]`
}

function pageLine(record: ResultRecord): string {
  const json = record.json
  if (!(json instanceof RawJson)) return `${JSON.stringify(record)}\n`
  // Written without it (an undefined field is left out), then spliced in last as received.
  record.json = undefined
  const line = `${JSON.stringify(record).slice(0, -1)},"json":${json.text}}\n`
  record.json = json
  return line
}
