import { createReadStream } from 'node:fs'
import { readLines } from '../../input/lines.js'
import type { ResultRecord } from '../../output/record.js'

/**
 * What the report reads of a results line (bodies are not read). `start` and `tries` are newer:
 * files of an older volley lack them, and still load.
 */
export type ReportRecord = Pick<
  ResultRecord,
  'id' | 'index' | 'ok' | 'status' | 'attempts' | 'ms' | 'start' | 'tries' | 'error'
>

/** A results file's first line: the job's id, and whatever else the run wrote there. */
export type JobRecord = { job: string } & Record<string, unknown>

export type ResultsLine =
  | { kind: 'job'; job: JobRecord }
  | { kind: 'result'; record: ReportRecord }
  /** Not a result: cut short by a crash, too long to read, or not volley's. */
  | { kind: 'unreadable'; line: number }

/** No results line needs more (a body past this is the API's problem); a longer one is counted, not held. */
const MAX_LINE_BYTES = 64 * 1024 * 1024

/** A results file's lines, parsed one at a time as the file streams by: memory holds one line, never the file. */
export async function* readResults(path: string): AsyncGenerator<ResultsLine> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>
  for await (const { line, text } of readLines(stream, { maxLineBytes: MAX_LINE_BYTES })) {
    if (text === undefined) {
      yield { kind: 'unreadable', line }
      continue
    }
    if (text === '') continue
    const value = parse(text)
    // --paginate --items: an item of a page, not a request (the page's own record follows it).
    if (typeof value?.item === 'number') continue
    if (line === 1 && typeof value?.job === 'string') yield { kind: 'job', job: value as JobRecord }
    else if (isResult(value)) yield { kind: 'result', record: value }
    else yield { kind: 'unreadable', line }
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

function isResult(
  value: Record<string, unknown> | undefined,
): value is ReportRecord & Record<string, unknown> {
  return (
    value !== undefined &&
    typeof value.index === 'number' &&
    typeof value.ok === 'boolean' &&
    typeof value.attempts === 'number' &&
    typeof value.ms === 'number'
  )
}

/** One attempt on the time axis: epoch ms when it asked the limiter, then as in AttemptTiming. */
export interface Attempt {
  at: number
  wait: number
  rate: number
  ms: number
  status: number | undefined
  error: string | undefined
}

/**
 * A record's attempts on the time axis, or undefined when it has no `start` (an old file). Without
 * `tries`, the request is one attempt from its start lasting its `ms`, with its status or error.
 */
export function attemptsOf(record: ReportRecord): Attempt[] | undefined {
  const { start } = record
  if (typeof start !== 'number' || !Number.isFinite(start)) return undefined
  if (!Array.isArray(record.tries) || record.tries.length === 0) {
    return [
      {
        at: start,
        wait: 0,
        rate: 0,
        ms: record.ms,
        status: record.status ?? undefined,
        error: record.status === null ? record.error?.code : undefined,
      },
    ]
  }
  return record.tries.map((t) => ({
    at: start + num(t.at),
    wait: num(t.wait),
    rate: num(t.rate),
    ms: num(t.ms),
    status: typeof t.status === 'number' ? t.status : undefined,
    error: typeof t.error === 'string' ? t.error : undefined,
  }))
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0
}
