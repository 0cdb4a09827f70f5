import { createReadStream, existsSync, truncateSync } from 'node:fs'
import { UsageError } from '../usage.js'
import { DoneSet } from './done-set.js'

export interface ResumeState {
  /** Input line numbers that have a result line. */
  done: DoneSet
  /** Of those, the results that failed: they count in the exit code of the resumed run. */
  failed: number
  /** Bytes of a torn last line (a write cut short by a crash) that were truncated away; 0 if none. */
  repairedBytes: number
}

/**
 * Reads an output file to resume it: every complete line is a result (`index` = its input line).
 * A last line without its newline was being written when the process died: it is cut off, and its
 * request runs again. Anything else that does not parse means the file is not a volley output (or
 * was edited): resuming into it could lose or repeat results, so it is refused, naming the line.
 */
export async function readResumeState(path: string): Promise<ResumeState> {
  const done = new DoneSet()
  if (!existsSync(path)) return { done, failed: 0, repairedBytes: 0 }
  let line = 0
  let failed = 0
  let kept = 0
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk
    let start = 0
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      line++
      const result = parseResult(data.toString('utf8', start, end), line, path)
      done.add(result.index)
      if (!result.ok) failed++
      kept += end + 1 - start
      start = end + 1
    }
    rest = data.subarray(start)
  }
  if (rest.length > 0) truncateSync(path, kept)
  return { done, failed, repairedBytes: rest.length }
}

function parseResult(text: string, line: number, path: string): { index: number; ok: boolean } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // Not JSON: not a volley result, which the check below reports.
  }
  const { index, ok } = (value ?? {}) as { index?: unknown; ok?: unknown }
  if (typeof index === 'number' && Number.isInteger(index) && index >= 1) return { index, ok: ok === true }
  throw new UsageError(
    `--resume: ${path} line ${line} is not a volley result line (no numeric \`index\`); resuming into it could lose or repeat results. Use another --out, or --overwrite to start again`,
  )
}
