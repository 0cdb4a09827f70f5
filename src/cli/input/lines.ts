import { StringDecoder } from 'node:string_decoder'

/** One line of input, without its line ending; `line` counts from 1. */
export interface InputLine {
  line: number
  text: string
}

/**
 * Splits a byte stream into lines as it arrives: memory holds one chunk and one partial line, never
 * the file. '\n' and '\r\n' both end a line; a UTF-8 BOM on the first line is dropped; a last line
 * without a newline still counts.
 */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<InputLine> {
  const decoder = new StringDecoder('utf8')
  // The start of the current line, as the chunks it came in: only each new chunk is searched for
  // '\n', so a line of many chunks costs its length once, not once per chunk (quadratic).
  let partial: string[] = []
  let line = 0
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      line++
      const piece = text.slice(start, end)
      yield { line, text: clean(partial.length === 0 ? piece : partial.join('') + piece, line) }
      partial = []
      start = end + 1
    }
    if (start < text.length) partial.push(text.slice(start))
  }
  const last = partial.join('') + decoder.end()
  if (last !== '') yield { line: line + 1, text: clean(last, line + 1) }
}

function clean(text: string, line: number): string {
  const unbom = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  return unbom.endsWith('\r') ? unbom.slice(0, -1) : unbom
}

/** Blank lines and '#' comments are not requests: they get no output line. */
export function isSkippable(text: string): boolean {
  const trimmed = text.trim()
  return trimmed === '' || trimmed.startsWith('#')
}
