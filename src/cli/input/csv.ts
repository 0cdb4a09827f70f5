import { parse } from 'csv-parse/sync'
import type { Params } from '../../http/spec.js'
import { UsageError } from '../usage.js'
import { type InputEntry, InputError } from './entry.js'
import { DEFAULT_MAX_LINE_BYTES, type InputLine, isSkippable, readLineChunks } from './lines.js'

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
 * CSV with a header line, as entries in groups: those of each chunk of lines read, without a promise
 * per line or record. Lines come from `readLineChunks` (strict UTF-8, capped), and are grouped into
 * records here: a record ends at the first line that does not end inside a quoted field, so each
 * record knows its own lines whatever line breaks its quoted fields hold. Each record becomes
 * `{ url, params, id }`; one that does not parse becomes an error entry naming its line; a header
 * without the url column stops the run before anything is sent (bad usage, exit 2). `line` is the
 * line where the record ends (its only line, unless a quoted field spans lines).
 */
export async function* readCsvChunks(
  input: AsyncIterable<Buffer | string>,
  options: CsvOptions,
  maxLineBytes = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<InputEntry[]> {
  const records = new CsvRecords(maxLineBytes)
  const table = new CsvTable(options)
  for await (const lines of readLineChunks(input, { maxLineBytes, keepCr: true })) {
    const entries: InputEntry[] = []
    for (const line of lines) {
      const record = records.push(line)
      const entry = record && table.entry(record)
      if (entry) entries.push(entry)
    }
    if (entries.length > 0) yield entries
  }
  const last = records.end()
  const entry = last && table.entry(last)
  if (entry) yield [entry]
}

/** Records -> entries, once the header has said what the columns are. */
class CsvTable {
  readonly #options: CsvOptions
  #header: string[] | undefined
  #params: readonly string[] = []

  constructor(options: CsvOptions) {
    this.#options = options
  }

  /** The record's entry; undefined for the header and for a record whose cells are all blank. */
  entry({ line, text, error }: CsvRecord): InputEntry | undefined {
    const header = this.#header
    if (header === undefined) {
      this.#header = headerOf(error ?? text, line)
      this.#params = checkHeader(this.#header, this.#options)
      return undefined
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
      return { line, error: bad as InputError }
    }
    if (!cells.some((cell) => cell.trim() !== '')) return undefined
    const record = Object.fromEntries(header.map((column, i) => [column, cells[i]!]))
    return toEntry(record, line, this.#params, this.#options)
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
 * Lines -> the text of each record, with the line it ends on, one line at a time. Blank and '#'
 * lines between records are skipped (inside a quoted field they are data). A record's bad line (not
 * UTF-8, too long) makes it an error, read to its end all the same so the records after it are not
 * misread (the bad line's text is not there to parse: its '"' are counted instead).
 */
class CsvRecords {
  readonly #maxBytes: number
  #parts: string[] = []
  #bytes = 0
  /** Inside a quoted field: the record goes on. */
  #open = false
  #first = 0
  #error: InputError | undefined
  #last = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** Takes the next line; returns the record it ends, if it ends one. */
  push(entry: InputLine): CsvRecord | undefined {
    this.#last = entry.line
    // Not inside a quoted field: this line starts a record.
    if (!this.#open) {
      if (entry.error === undefined && isSkippable(entry.text)) return undefined
      this.#first = entry.line
      this.#bytes = 0
    }
    if (entry.error) {
      this.#error ??= entry.error
      this.#open = this.#open !== entry.oddQuotes
    } else {
      this.#bytes += Buffer.byteLength(entry.text) + 1
      if (this.#error === undefined && this.#bytes > this.#maxBytes) {
        const message = `a CSV record of more than ${this.#maxBytes} bytes (--max-line-bytes), from line ${this.#first}: not read`
        this.#error = new InputError(entry.line, message)
      }
      if (this.#error === undefined) this.#parts.push(entry.text)
      this.#open = quotedAtEnd(entry.text, this.#open)
    }
    if (this.#open) return undefined
    const error = this.#error
    const record: CsvRecord = error
      ? { line: entry.line, error }
      : { line: entry.line, text: this.#parts.join('\n').replace(/\r$/, '') }
    this.#parts = []
    this.#error = undefined
    return record
  }

  /** The input has ended: a record still open is an error. */
  end(): CsvRecord | undefined {
    if (!this.#open) return undefined
    const error =
      this.#error ?? new InputError(this.#first, 'a quoted field opened on this line is never closed')
    return { line: this.#last, error }
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
