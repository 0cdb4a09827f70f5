import { type CsvError, parse } from 'csv-parse'
import type { Params } from '../../http/spec.js'
import { UsageError } from '../usage.js'
import { type InputEntry, InputError } from './entry.js'

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
 * CSV with a header line, parsed as a stream (csv-parse). Each record becomes `{ url, params, id }`.
 * A record that does not parse (a wrong number of fields) becomes an error entry naming its line;
 * a header without the url column stops the run before anything is sent (bad usage, exit 2).
 * `line` is the line where the record ends (its only line, unless a quoted field spans lines).
 */
export async function* readCsv(
  input: NodeJS.ReadableStream,
  options: CsvOptions,
): AsyncGenerator<InputEntry> {
  let params: readonly string[] = []
  const skipped: InputEntry[] = []
  const parser = parse({
    bom: true,
    info: true,
    // As in the other formats: '#' lines are comments, and blank (or all-blank) lines are skipped.
    comment: '#',
    comment_no_infix: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    columns: (header: string[]) => {
      params = checkHeader(header, options)
      return header
    },
  })
  parser.on('skip', (error: CsvError) => {
    const line = Number(error.lines)
    skipped.push({ line, error: new InputError(line, `not a valid CSV record: ${error.message}`) })
  })
  input.pipe(parser)
  // A pipe does not forward the source's errors (an unreadable file): end the parser with them.
  input.on('error', (error) => parser.destroy(error))
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>
    info: { lines: number }
  }>) {
    // The parser reports a broken record as soon as it parses it, maybe ahead of the records before it.
    while (skipped.length > 0 && skipped[0]!.line < info.lines) yield skipped.shift()!
    if (Object.values(record).every((cell) => cell.trim() === '')) continue
    yield toEntry(record, info.lines, params, options)
  }
  while (skipped.length > 0) yield skipped.shift()!
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
