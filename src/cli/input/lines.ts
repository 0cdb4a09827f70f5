import { isUtf8 } from 'node:buffer'
import { InputError } from './entry.js'

/** The default of --max-line-bytes: far above any request line, far below what would strain memory. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024

/**
 * One line of input, without its line ending; `line` counts from 1. A line that cannot be text
 * (not UTF-8, or longer than the cap) is an error naming it; `oddQuotes` then says whether it holds
 * an odd number of '"' (a CSV record goes on past it), since its text is not there to count them.
 */
export type InputLine =
  | { line: number; text: string; error?: undefined }
  | { line: number; error: InputError; oddQuotes: boolean; text?: undefined }

export interface LineOptions {
  /** Lines longer are not kept (only counted) and become errors. @default DEFAULT_MAX_LINE_BYTES */
  maxLineBytes?: number
  /** Keep a '\r' before the '\n' (CSV keeps it inside quoted fields). @default false */
  keepCr?: boolean
}

/**
 * Splits a byte stream into lines as it arrives: memory holds one chunk and one partial line (at most
 * `maxLineBytes` of it), never the file. '\n' ends a line ('\r\n' too); a UTF-8 BOM on the first
 * line is dropped; a last line without a newline still counts. Each line is decoded on its own and
 * strictly, so a bad byte makes its line an error instead of a U+FFFD sent to the API. Yields the
 * lines each chunk of the stream ends, together: a reader that turns lines into requests as they
 * are pulled takes them without a promise per line (the hot path of a million-line run).
 */
export async function* readLineChunks(
  input: AsyncIterable<Buffer | string>,
  { maxLineBytes = DEFAULT_MAX_LINE_BYTES, keepCr = false }: LineOptions = {},
): AsyncGenerator<InputLine[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  // The current line's pieces (slices of the chunks it came in, so a line of many chunks costs its
  // length once), and its size: past the cap the pieces are let go and only size and quotes counted.
  let pieces: Buffer[] = []
  let size = 0
  let quotes = 0
  let line = 0
  const add = (piece: Buffer) => {
    size += piece.length
    if (size <= maxLineBytes) return void pieces.push(piece)
    for (const kept of pieces) quotes += countQuotes(kept)
    quotes += countQuotes(piece)
    pieces = []
  }
  const finish = (number: number): InputLine => {
    const bytes = size
    const held = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, Math.min(size, maxLineBytes))
    const counted = quotes
    pieces = []
    size = 0
    quotes = 0
    if (bytes > maxLineBytes) {
      const message = `${bytes} bytes, over --max-line-bytes (${maxLineBytes}): not read`
      return { line: number, error: new InputError(number, message), oddQuotes: counted % 2 === 1 }
    }
    let text: string
    try {
      text = decoder.decode(held)
    } catch {
      const error = new InputError(number, 'not valid UTF-8 text (is the file in another encoding?)')
      return { line: number, error, oddQuotes: countQuotes(held) % 2 === 1 }
    }
    return clean(text, number)
  }
  const clean = (text: string, number: number): InputLine => {
    const unbom = number === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
    return { line: number, text: !keepCr && unbom.endsWith('\r') ? unbom.slice(0, -1) : unbom }
  }
  for await (const data of input) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data
    const first = chunk.indexOf(10)
    const last = chunk.lastIndexOf(10)
    if (first === -1) {
      add(chunk)
      continue
    }
    add(chunk.subarray(0, first))
    const lines = [finish(++line)]
    // The lines wholly inside this chunk: when they are all valid UTF-8 and under the cap (nearly
    // always), decoded in one go and split as text, as fast as reading without the checks.
    const whole = chunk.subarray(first + 1, last)
    if (last > first && whole.length <= maxLineBytes && isUtf8(whole)) {
      const text = whole.toString('utf8')
      let start = 0
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        lines.push(clean(text.slice(start, end), ++line))
        start = end + 1
      }
      lines.push(clean(text.slice(start), ++line))
    } else {
      let start = first + 1
      for (let end = chunk.indexOf(10, start); start <= last; end = chunk.indexOf(10, start)) {
        add(chunk.subarray(start, end))
        lines.push(finish(++line))
        start = end + 1
      }
    }
    if (last + 1 < chunk.length) add(chunk.subarray(last + 1))
    yield lines
  }
  if (size > 0) yield [finish(line + 1)]
}

/** The lines of `readLineChunks`, one at a time. */
export async function* readLines(
  input: AsyncIterable<Buffer | string>,
  options: LineOptions = {},
): AsyncGenerator<InputLine> {
  for await (const lines of readLineChunks(input, options)) yield* lines
}

/** How many '"' a line's bytes hold: whether a CSV record goes on past a line that is not text. */
function countQuotes(line: Buffer): number {
  let n = 0
  for (let i = line.indexOf('"'); i !== -1; i = line.indexOf('"', i + 1)) n++
  return n
}

/** Blank lines and '#' comments are not requests: they get no output line. */
export function isSkippable(text: string): boolean {
  const trimmed = text.trim()
  return trimmed === '' || trimmed.startsWith('#')
}
