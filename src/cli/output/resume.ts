import { createReadStream, existsSync, truncateSync } from 'node:fs'
import { UsageError } from '../usage.js'
import { DoneSet } from './done-set.js'

export interface ResumeState {
  /** Input line numbers that have a result line, with the hash of the content each was run from. */
  done: DoneSet
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
export function jobLine(job: string): string {
  return `${JSON.stringify({ job })}\n`
}

/**
 * Reads an output file to resume it: a job line, then results (`index` = the input line, `hash` =
 * its content). A last line without its newline was being written when the process died: it is cut
 * off, and its request runs again. Anything else that does not parse means the file is not a volley
 * output (or was edited): resuming into it could lose or repeat results, so it is refused, naming
 * the line.
 */
export async function readResumeState(path: string): Promise<ResumeState> {
  const done = new DoneSet()
  if (!existsSync(path)) return { done, failed: 0, repairedBytes: 0, job: undefined }
  let line = 0
  let failed = 0
  let kept = 0
  let job: string | undefined
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let start = 0
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      line++
      const value = parseLine(data.toString('utf8', start, end))
      if (line === 1 && typeof value.job === 'string') job = value.job
      else {
        const result = asResult(value, line, path)
        done.add(result.index, result.hash)
        if (!result.ok) failed++
      }
      kept += end + 1 - start
      start = end + 1
    }
    rest = data.subarray(start)
  }
  if (done.size > 0 && job === undefined) {
    throw new UsageError(
      `--resume: ${path} has results but no job line (its first line, {"job": …}), from which the Idempotency-Keys of its POSTs derive: resuming could send them again under new keys. Keep that line when filtering the file (jq -c 'select(.ok != false)'), or use --overwrite to start again`,
    )
  }
  if (rest.length > 0) truncateSync(path, kept)
  return { done, failed, repairedBytes: rest.length, job }
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
  throw new UsageError(
    `--resume: ${path} line ${line} is not a volley result line (no numeric \`index\` and \`hash\`); resuming into it could lose or repeat results. Use another --out, or --overwrite to start again`,
  )
}
