import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { oneOf, wholeNumber } from '../flags.js'
import { DEFAULT_MAX_LINE_BYTES } from '../input/lines.js'
import { formatOf, type InputFormat, type InputOptions } from '../input/open.js'
import type { Io } from '../io.js'
import { UsageError } from '../usage.js'

/** The flags that say how the input file is read: `volley run` and `volley submit` share them. */
export interface InputFlags {
  format?: string
  csv?: boolean
  urlColumn: string
  idColumn?: string
  params?: string
  maxLineBytes: string
}

export const FORMATS: readonly InputFormat[] = ['jsonl', 'urls', 'csv']

/** Adds the input flags to a command. */
export function withInputFlags(command: Command): Command {
  return command
    .option('--format <format>', 'jsonl, urls or csv (default: by extension; .csv is CSV)')
    .option('--csv', 'same as --format csv')
    .option('--url-column <name>', 'CSV: the column holding the URL', 'url')
    .option('--id-column <name>', 'CSV: the column holding the request id')
    .option('--params <columns>', 'CSV: comma-separated columns sent as query params (default: all others)')
    .option(
      '--max-line-bytes <n>',
      'a longer input line (or CSV record) is an error result, never read whole',
      String(DEFAULT_MAX_LINE_BYTES),
    )
}

/** The input argument and flags, checked: the file exists, the format is known. `method` is CSV records' method. */
export function resolveInputFlags(input: string, flags: InputFlags, method: string, io: Io): InputOptions {
  const path = input === '-' ? '-' : resolve(io.cwd, input)
  if (path !== '-') {
    if (!existsSync(path)) throw new UsageError(`the input file ${input} does not exist`)
    if (!statSync(path).isFile()) throw new UsageError(`the input ${input} is not a file`)
  }
  const format: InputFormat = flags.csv
    ? 'csv'
    : flags.format !== undefined
      ? oneOf('--format', flags.format, FORMATS)
      : path === '-'
        ? 'jsonl'
        : formatOf(path)
  const params =
    flags.params === undefined
      ? undefined
      : flags.params
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '')
  return {
    path,
    format,
    csv: { urlColumn: flags.urlColumn, idColumn: flags.idColumn, paramColumns: params, method },
    maxLineBytes: wholeNumber('--max-line-bytes', flags.maxLineBytes, 1),
  }
}
