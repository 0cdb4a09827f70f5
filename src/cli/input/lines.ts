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
  let partial = ''
  let line = 0
  for await (const chunk of input) {
    const text = partial + (typeof chunk === 'string' ? chunk : decoder.write(chunk))
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      line++
      yield { line, text: clean(text.slice(start, end), line) }
      start = end + 1
    }
    partial = text.slice(start)
  }
  partial += decoder.end()
  if (partial !== '') yield { line: line + 1, text: clean(partial, line + 1) }
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
