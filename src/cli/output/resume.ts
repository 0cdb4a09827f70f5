import { formatRate, type ResolvedRate } from '../../limit/units.js'
import { createReadStream, existsSync, truncateSync } from 'node:fs'
import { ListProgress, type ListResume } from '../pages/progress.js'
import { UsageError } from '../usage.js'
import { DoneSet } from './done-set.js'

export interface ResumeState {
  /** Input line numbers that have a result line, with the hash of the content each was run from (--paginate: lists ended). */
  done: DoneSet
  /** Lines that --resume checks unchanged: `done`, and lists with pages written but not ended. */
  seen: DoneSet
  /** --paginate: lists to pick up, by input line. */
  started: Map<number, ListResume>
  /** Whether the output holds page records (a --paginate run's). */
  paged: boolean
  /** Of those, the results that failed: they count in the exit code of the resumed run. */
  failed: number
  /** Bytes of a torn last line (a write cut short by a crash) that were truncated away; 0 if none. */
  repairedBytes: number
  /** The job's id, from the output's first line; undefined for an output holding no line yet. */
  job: string | undefined
}

/**
 * An output file's first line: the job's id, written before any request is sent, from which its
 * POSTs' Idempotency-Keys derive. --resume reads it back, so a request sent again keeps its key.
 */
export function jobLine(job: string, rates: readonly ResolvedRate[] = []): string {
  // The rates given (--rate) are kept for `volley report`, which draws them as the limit in force.
  return `${JSON.stringify(rates.length > 0 ? { job, rate: rates.map(formatRate) } : { job })}\n`
}

/**
 * Reads an output file to resume it: a job line, then results (`index` = the input line, `hash` =
 * its content). A last line without its newline was being written when the process died: it is cut
 * off, and its request runs again. So are --items lines not followed by their page's record: a page
 * is written in one write, and one cut short by a kill is fetched again, whole. Anything else that does not parse means the file is not a volley
 * output (or was edited): resuming into it could lose or repeat results, so it is refused, naming
 * the line.
 */
export async function readResumeState(path: string): Promise<ResumeState> {
  const done = new DoneSet()
  const lists = new ListProgress()
  let paged = false
  if (!existsSync(path))
    return { done, seen: done, started: new Map(), paged, failed: 0, repairedBytes: 0, job: undefined }
  let line = 0
  let failed = 0
  let kept = 0
  // Bytes up to the last line that is not an --items line: where a page's lines end.
  let whole = 0
  let job: string | undefined
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let start = 0
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      line++
      const value = parseLine(data.toString('utf8', start, end))
      if (line === 1 && typeof value.job === 'string') {
        job = value.job
        whole = end + 1
      } else {
        const result = asResult(value, line, path)
        paged ||= value.page !== undefined
        if (typeof value.item !== 'number') {
          if (value.page === undefined) {
            done.add(result.index, result.hash)
            if (!result.ok) failed++
          } else {
            const bad = lists.see(result.index, result.hash, value)
            if (bad !== undefined) throw notVolley(path, line, bad)
          }
          whole = kept + end + 1 - start
        }
      }
      kept += end + 1 - start
      start = end + 1
    }
    rest = data.subarray(start)
  }
  if (line > 0 && job === undefined) {
    throw new UsageError(
      `--resume: ${path} has results but no job line (its first line, {"job": …}), from which the Idempotency-Keys of its POSTs derive: resuming could send them again under new keys. Keep that line when filtering the file (jq -c 'select(.ok != false)'), or use --overwrite to start again`,
    )
  }
  const size = kept + rest.length
  if (whole < size) truncateSync(path, whole)
  const seen = paged ? new DoneSet() : done
  const pages = lists.settle(done, seen)
  return {
    done,
    seen,
    started: pages.started,
    paged,
    failed: failed + pages.failed,
    repairedBytes: size - whole,
    job,
  }
}

function parseLine(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>
  } catch {
    // Not JSON: not a volley line, which `asResult` reports.
  }
  return {}
}

function asResult(
  value: Record<string, unknown>,
  line: number,
  path: string,
): { index: number; hash: string; ok: boolean } {
  const { index, hash, ok } = value
  if (
    typeof index === 'number' &&
    Number.isInteger(index) &&
    index >= 1 &&
    typeof hash === 'string' &&
    /^[0-9a-f]{16}$/.test(hash)
  )
    return { index, hash, ok: ok === true }
  throw notVolley(path, line, 'no numeric `index` and `hash`')
}

function notVolley(path: string, line: number, why: string): UsageError {
  return new UsageError(
    `--resume: ${path} line ${line} is not a volley result line (${why}); resuming into it could lose or repeat results. Use another --out, or --overwrite to start again`,
  )
}
