import { writeFileSync } from 'node:fs'
import type { ReportRecord } from '../../src/cli/report/html/records.js'
import type { AttemptTiming } from '../../src/http/timings.js'

/** Epoch ms of the fixtures' first start: a whole minute, so buckets start on it. */
export const T0 = 1_780_000_020_000

/** A results record with the fields a report reads (and a hash, as volley writes one). */
export function record(fields: Partial<ReportRecord> & { index: number }): ReportRecord & { hash: string } {
  return {
    id: fields.index,
    hash: '0123456789abcdef',
    ok: true,
    status: 200,
    attempts: fields.tries?.length ?? 1,
    ms: 10,
    ...fields,
  }
}

/** A results file: the job line, then one line per record. */
export function writeResults(
  path: string,
  records: readonly object[],
  job: object = { job: 'job-1' },
): string {
  writeFileSync(path, [job, ...records].map((line) => `${JSON.stringify(line)}\n`).join(''))
  return path
}

/**
 * `count` requests 50 ms apart, with per-attempt timings: every 10th is refused (429) then retried
 * and ok, every 25th times out twice and fails (error TIMEOUT), the rest are answered 200 in 20-49 ms.
 */
export function timedRecords(count: number): ReportRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const index = i + 1
    const start = T0 + i * 50
    if (index % 25 === 0) {
      const tries: AttemptTiming[] = [
        { at: 0, wait: 2, rate: 2, ms: 100, error: 'TIMEOUT' },
        { at: 150, wait: 5, rate: 5, ms: 100, error: 'TIMEOUT' },
      ]
      const error = { code: 'TIMEOUT', message: `attempt timed out after 100ms (line ${index})` }
      return record({ index, start, tries, ok: false, status: null, ms: 255, error })
    }
    if (index % 10 === 0) {
      const tries: AttemptTiming[] = [
        { at: 0, wait: 1, rate: 0, ms: 10, status: 429 },
        { at: 500, wait: 3, rate: 3, ms: 30, status: 200 },
      ]
      return record({ index, start, tries, ms: 533 })
    }
    return record({ index, start, tries: [{ at: 0, wait: 1, rate: 1, ms: 20 + (index % 30), status: 200 }] })
  })
}
