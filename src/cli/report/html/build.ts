import { writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join } from 'node:path'
import { parseRates, type ResolvedRate } from '../../../limit/units.js'
import { type LiveEvents, startsPerSecond } from './live.js'
import { reportPage } from './page.js'
import { type JobRecord, readResults } from './records.js'
import { ResultsTally } from './tally.js'
import { Timeline } from './timeline.js'
import { UsageError } from '../../usage.js'

export interface ReportOptions {
  /** Values to remove from error messages again (the run's --header-env and -H secrets). @default [] */
  secrets?: readonly string[]
  /** Rates the run was given (--rate): drawn as the limit in force. @default [] */
  rates?: readonly ResolvedRate[]
  /** Pauses and learned quotas a live run saw. */
  live?: LiveEvents
  /** Epoch ms, written on the page as when it was made. @default Date.now() of the caller's clock */
  now: number
}

/** What was written: the page's size and the results it counts. */
export interface ReportOutcome {
  bytes: number
  results: number
  /** Whether it has charts: false when no result has a start time. */
  charted: boolean
}

/** results.jsonl -> results.report.html beside it. */
export function reportPath(results: string): string {
  return join(dirname(results), `${basename(results, extname(results))}.report.html`)
}

/**
 * Reads a results file twice as a stream (first its span and counts, then its time buckets, whose
 * width needs the span) and writes the report's one self-contained HTML page to `out`. Memory
 * holds the buckets and the counts, never the file. A file with no result line, or a page that
 * cannot be written, is a UsageError naming it.
 */
export async function buildReport(
  results: string,
  out: string,
  options: ReportOptions,
): Promise<ReportOutcome> {
  const tally = new ResultsTally(options.secrets)
  let job: JobRecord | undefined
  for await (const line of readResults(results)) {
    if (line.kind === 'job') job = line.job
    else if (line.kind === 'result') tally.add(line.record)
    else tally.unreadable()
  }
  const figures = tally.figures()
  if (figures.total === 0 && figures.unreadable > 0)
    throw new UsageError(`${results} is not a volley results file: none of its lines is a result`)
  const span = tally.span()
  const given = options.rates?.length ? [...options.rates] : ratesOf(job)
  let timeline: Timeline | undefined
  if (span) {
    timeline = new Timeline(span)
    for await (const line of readResults(results)) if (line.kind === 'result') timeline.add(line.record)
  }
  const page = reportPage({
    name: basename(results),
    job: job?.job,
    figures,
    errors: tally.errors(),
    series: timeline?.series(options.live, startsPerSecond(given)),
    given,
    live: options.live,
    madeAt: options.now,
  })
  try {
    await writeFile(out, page)
  } catch (error) {
    throw new UsageError(`cannot write the report ${out}: ${(error as Error).message}`)
  }
  return {
    bytes: Buffer.byteLength(page),
    results: figures.total,
    charted: timeline !== undefined,
  }
}

/** The rates a run was given, as its job line keeps them (none in files from before it did). */
function ratesOf(job: JobRecord | undefined): ResolvedRate[] {
  try {
    return parseRates(job?.rate, "the job line's rate")
  } catch {
    // A job line edited by hand: the report still shows the rest.
    return []
  }
}
