import { parse } from 'csv-parse/sync'
import type { Params } from '../../http/spec.js'
import { UsageError } from '../usage.js'
import { type InputEntry, InputError } from './entry.js'
import { DEFAULT_MAX_LINE_BYTES, type InputLine, isSkippable, readLines } from './lines.js'

export interface CsvOptions {
  /** The column holding the URL. @default 'url' */
  urlColumn: string
  /** A column holding the request id (not sent). @default none: the id is the line number */
  idColumn: string | undefined
  /** Columns sent as query parameters. @default every column but the url and id ones */
  paramColumns: readonly string[] | undefined
  /** Method of every record (--method). @default 'GET' */
  method: string
}

/**
 * CSV with a header line. Lines come from `readLines` (strict UTF-8, capped), and are grouped into
 * records here: a record ends at the first line that does not end inside a quoted field, so each
 * record knows its own lines whatever line breaks its quoted fields hold. Each record becomes `{ url, params, id }`; one that does not parse becomes an error
 * entry naming its line; a header without the url column stops the run before anything is sent
 * (bad usage, exit 2). `line` is the line where the record ends (its only line, unless a quoted
 * field spans lines).
 */
export async function* readCsv(
  input: AsyncIterable<Buffer | string>,
  options: CsvOptions,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<InputEntry> {
  let header: string[] | undefined
  let params: readonly string[] = []
  const lines = readLines(input, { maxLineBytes, keepCr: true })
  for await (const { line, text, error } of records(lines, maxLineBytes)) {
    if (header === undefined) {
      header = headerOf(error ?? text, line)
      params = checkHeader(header, options)
      continue
    }
    let cells: string[]
    try {
      if (error) throw error
      cells = fields(text, line)
      if (cells.length !== header.length) {
        const count = `${cells.length} fields where the header has ${header.length}`
        throw new InputError(line, `not a valid CSV record: ${count}`)
      }
    } catch (bad) {
      yield { line, error: bad as InputError }
      continue
    }
    if (cells.some((cell) => cell.trim() !== '')) {
      const record = Object.fromEntries(header.map((column, i) => [column, cells[i]!]))
      yield toEntry(record, line, params, options)
    }
  }
}

/** A header that cannot be read stops the run: without it no record means anything. */
function headerOf(record: string | InputError, line: number): string[] {
  try {
    if (typeof record !== 'string') throw record
    return fields(record, line)
  } catch (error) {
    throw new UsageError(`the CSV header cannot be read: ${(error as Error).message}`)
  }
}

type CsvRecord =
  { line: number; text: string; error?: undefined } | { line: number; error: InputError; text?: undefined }

/**
 * Lines -> the text of each record, with the line it ends on. Blank and '#' lines between records
 * are skipped (inside a quoted field they are data). A record's bad line (not UTF-8, too long) makes
 * it an error, read to its end all the same so the records after it are not misread (the bad line's
 * text is not there to parse: its '"' are counted instead).
 */
async function* records(lines: AsyncIterable<InputLine>, maxLineBytes: number): AsyncGenerator<CsvRecord> {
  let parts: string[] = []
  let bytes = 0
  let open = false
  let first = 0
  let error: InputError | undefined
  let last = 0
  for await (const entry of lines) {
    last = entry.line
    // Not inside a quoted field: this line starts a record.
    if (!open) {
      if (entry.error === undefined && isSkippable(entry.text)) continue
      first = entry.line
      bytes = 0
    }
    if (entry.error) {
      error ??= entry.error
      open = open !== entry.oddQuotes
    } else {
      bytes += Buffer.byteLength(entry.text) + 1
      if (error === undefined && bytes > maxLineBytes) {
        const message = `a CSV record of more than ${maxLineBytes} bytes (--max-line-bytes), from line ${first}: not read`
        error = new InputError(entry.line, message)
      }
      if (error === undefined) parts.push(entry.text)
      open = quotedAtEnd(entry.text, open)
    }
    if (open) continue
    if (error) yield { line: entry.line, error }
    else yield { line: entry.line, text: parts.join('\n').replace(/\r$/, '') }
    parts = []
    error = undefined
  }
  if (open) {
    yield {
      line: last,
      error: error ?? new InputError(first, 'a quoted field opened on this line is never closed'),
    }
  }
}

/**
 * Whether a quoted field is still open at the end of a line, given whether one was at its start. A
 * '"' opens one only at the start of a field (a stray '"' inside a plain field is the record's error,
 * not the start of a multi-line field); '""' inside one is a quote.
 */
function quotedAtEnd(text: string, quoted: boolean): boolean {
  let open = quoted
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    if (!open) open = i === 0 || text[i - 1] === ','
    else if (text[i + 1] === '"') i++
    else open = false
  }
  return open
}

/** The fields of one record: a plain split without quotes (the common case, and fast), csv-parse with. */
function fields(text: string, line: number): string[] {
  if (!text.includes('"')) return text.split(',')
  try {
    // '\n' only: a lone '\r' is data, as when the lines were split.
    const rows = parse(text, { record_delimiter: '\n' }) as string[][]
    if (rows.length === 1) return rows[0]!
  } catch (error) {
    // csv-parse counts lines within this one record: its "at line 1" would mislead.
    const message = (error as Error).message.replace(/ (?:at|on) line \d+/, '')
    throw new InputError(line, `not a valid CSV record: ${message}`)
  }
  throw new InputError(line, 'not a valid CSV record')
}

function checkHeader(header: string[], options: CsvOptions): string[] {
  const has = new Set(header)
  if (has.size < header.length) {
    const twice = header.find((column, i) => header.indexOf(column) !== i)
    throw new UsageError(`the CSV header names the column \`${twice}\` twice: give each column one name`)
  }
  const missing = (column: string, flag: string) =>
    new UsageError(
      `the CSV header has no \`${column}\` column (${flag}); its columns are: ${header.join(', ')}`,
    )
  if (!has.has(options.urlColumn)) throw missing(options.urlColumn, '--url-column')
  if (options.idColumn !== undefined && !has.has(options.idColumn))
    throw missing(options.idColumn, '--id-column')
  for (const column of options.paramColumns ?? []) if (!has.has(column)) throw missing(column, '--params')
  return (
    options.paramColumns?.slice() ??
    header.filter((column) => column !== options.urlColumn && column !== options.idColumn)
  )
}

function toEntry(
  record: Record<string, string>,
  line: number,
  paramColumns: readonly string[],
  options: CsvOptions,
): InputEntry {
  const url = record[options.urlColumn]?.trim()
  if (!url) return { line, error: new InputError(line, `the \`${options.urlColumn}\` column is empty`) }
  const params: Record<string, string> = {}
  for (const column of paramColumns) {
    const value = record[column]
    if (value !== undefined && value !== '') params[column] = value
  }
  const id = options.idColumn === undefined ? undefined : record[options.idColumn]
  const method = options.method === 'GET' ? {} : { method: options.method }
  return { line, spec: { url, params: params as Params, ...method, ...(id ? { id } : {}) } }
}
