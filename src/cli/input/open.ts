import { createReadStream } from 'node:fs'
import type { Io } from '../io.js'
import { type CsvOptions, readCsvChunks } from './csv.js'
import type { InputEntry } from './entry.js'
import { jsonlEntry, urlEntry } from './jsonl.js'
import { readLineChunks } from './lines.js'

export type InputFormat = 'jsonl' | 'urls' | 'csv'

export interface InputOptions {
  /** A file path, or '-' for stdin. */
  path: string
  format: InputFormat
  csv: CsvOptions
  /** Longer lines (and CSV records) are errors, never held whole (--max-line-bytes). */
  maxLineBytes: number
}

/**
 * The input's entries, read lazily from the file (or stdin) in the given format, in groups: those of
 * each chunk read (a CSV record that spans chunks is in the group of the chunk it ends in). Chunks
 * of 16 KiB: a group of a thousand lines or so, enough that a promise per group costs nothing, few
 * enough that what a group holds while it is pulled from stays small.
 */
export function openInputChunks(options: InputOptions, io: Io): AsyncGenerator<InputEntry[]> {
  const stream =
    options.path === '-' ? io.stdin : createReadStream(options.path, { highWaterMark: 16 * 1024 })
  return entryChunks(stream as AsyncIterable<Buffer | string>, options)
}

/** The entries of a byte stream in the given format, in groups (see openInputChunks). */
export async function* entryChunks(
  bytes: AsyncIterable<Buffer | string>,
  options: Omit<InputOptions, 'path'>,
): AsyncGenerator<InputEntry[]> {
  if (options.format === 'csv') {
    yield* readCsvChunks(bytes, options.csv, options.maxLineBytes)
    return
  }
  const toEntry = options.format === 'urls' ? urlEntry : jsonlEntry
  for await (const lines of readLineChunks(bytes, { maxLineBytes: options.maxLineBytes })) {
    const entries: InputEntry[] = []
    for (const line of lines) {
      const entry = toEntry(line)
      if (entry) entries.push(entry)
    }
    if (entries.length > 0) yield entries
  }
}

/** The input's entries, one at a time. */
export async function* openInput(options: InputOptions, io: Io): AsyncGenerator<InputEntry> {
  for await (const entries of openInputChunks(options, io)) yield* entries
}

/** The format named by a file's extension: .csv is CSV, .txt/.urls a list of URLs, anything else JSONL. */
export function formatOf(path: string): InputFormat {
  const lower = path.toLowerCase()
  if (lower.endsWith('.csv')) return 'csv'
  if (lower.endsWith('.txt') || lower.endsWith('.urls')) return 'urls'
  return 'jsonl'
}
