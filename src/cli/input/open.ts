import { createReadStream } from 'node:fs'
import type { Io } from '../io.js'
import { type CsvOptions, readCsv } from './csv.js'
import type { InputEntry } from './entry.js'
import { readJsonl, readUrls } from './jsonl.js'
import { readLines } from './lines.js'

export type InputFormat = 'jsonl' | 'urls' | 'csv'

export interface InputOptions {
  /** A file path, or '-' for stdin. */
  path: string
  format: InputFormat
  csv: CsvOptions
  /** Longer lines (and CSV records) are errors, never held whole (--max-line-bytes). */
  maxLineBytes: number
}

/** The input's entries, read lazily from the file (or stdin) in the given format. */
export function openInput(options: InputOptions, io: Io): AsyncGenerator<InputEntry> {
  const stream =
    options.path === '-' ? io.stdin : createReadStream(options.path, { highWaterMark: 64 * 1024 })
  const bytes = stream as AsyncIterable<Buffer | string>
  if (options.format === 'csv') return readCsv(bytes, options.csv, options.maxLineBytes)
  const lines = readLines(bytes, { maxLineBytes: options.maxLineBytes })
  return options.format === 'urls' ? readUrls(lines) : readJsonl(lines)
}

/** The format named by a file's extension: .csv is CSV, .txt/.urls a list of URLs, anything else JSONL. */
export function formatOf(path: string): InputFormat {
  const lower = path.toLowerCase()
  if (lower.endsWith('.csv')) return 'csv'
  if (lower.endsWith('.txt') || lower.endsWith('.urls')) return 'urls'
  return 'jsonl'
}
