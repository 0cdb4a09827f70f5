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
  /** --paginate and --items as the job line keeps them (files from before it did: undefined). */
  paging?: Paging
}

/**
 * An output file's first line: the job's id, written before any request is sent, from which its
 * POSTs' Idempotency-Keys derive. --resume reads it back, so a request sent again keeps its key.
 */
export function jobLine(job: string, run: { rates?: readonly ResolvedRate[]; paging?: Paging } = {}): string {
  // The rates given (--rate) are kept for `volley report`, which draws them as the limit in force;
  // --paginate and --items for --resume, which must follow the lists' pages the same way.
  const rate = run.rates && run.rates.length > 0 ? { rate: run.rates.map(formatRate) } : {}
  const paging = run.paging ? { paginate: run.paging.paginate, items: run.paging.items } : {}
  return `${JSON.stringify({ job, ...rate, ...paging })}\n`
}

/** How a --paginate run followed its lists, as its job line keeps it. */
export interface Paging {
  /** The --paginate value as given. */
  paginate: string
  /** --items, when given. */
  items: string | undefined
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
  let paging: Paging | undefined
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let start = 0
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      line++
      const value = parseLine(data.toString('utf8', start, end))
      if (line === 1 && typeof value.job === 'string') {
        job = value.job
        if (typeof value.paginate === 'string')
          paging = {
            paginate: value.paginate,
            items: typeof value.items === 'string' ? value.items : undefined,
          }
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
    paging,
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
