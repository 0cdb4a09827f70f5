import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { CsvOptions } from '../../src/cli/input/csv.js'
import type { InputEntry } from '../../src/cli/input/entry.js'
import { entryChunks, type InputFormat } from '../../src/cli/input/open.js'

const CSV: CsvOptions = { urlColumn: 'url', idColumn: undefined, paramColumns: undefined, method: 'GET' }

/** Entries as [line, url or error message]. */
async function read(entries: AsyncIterable<InputEntry>): Promise<[number, unknown][]> {
  const out: [number, unknown][] = []
  for await (const entry of entries) {
    out.push([
      entry.line,
      entry.error ? entry.error.message : ((entry.spec as { url?: unknown }).url ?? entry.spec),
    ])
  }
  return out
}

/** The entries of a stream (JSONL, a URL list, CSV), as `volley run` reads them. */
async function* entries(
  format: InputFormat,
  chunks: Iterable<Buffer | string>,
  maxLineBytes = 1024 * 1024,
): AsyncGenerator<InputEntry> {
  for await (const group of entryChunks(Readable.from(chunks), { format, csv: CSV, maxLineBytes }))
    yield* group
}

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))))

describe('input readers', () => {
  it('makes a line that is not UTF-8 an error naming it, instead of sending U+FFFD', async () => {
    const input = bytes('/a\n/b', [0xff, 0xfe], '\n/c\u00e9\n"/d', [0xc3], '"\n')
    const bad = (line: number) => `line ${line}: not valid UTF-8 text (is the file in another encoding?)`
    for (const format of ['jsonl', 'urls'] as const) {
      expect(await read(entries(format, [input]))).toEqual([
        [1, '/a'],
        [2, bad(2)],
        [3, '/cé'],
        [4, bad(4)],
      ])
    }
    const csv = bytes('url,q\n/a,x\n/b,', [0xe2, 0x82], '\n"/c","\u20ac"\n')
    expect(await read(entries('csv', [csv]))).toEqual([
      [2, '/a'],
      [3, bad(3)],
      [4, '/c'],
    ])
  })

  it('makes a line over --max-line-bytes an error naming it and its size, read without holding it', async () => {
    const big = 'x'.repeat(1000)
    // The long line comes in many chunks: only its count is kept past the cap.
    const chunks = ['/a\n/', ...Array.from({ length: 50 }, () => big), '\n/c\n', '/', big.slice(0, 20)]
    const expected = [
      [1, '/a'],
      [2, 'line 2: 50001 bytes, over --max-line-bytes (100): not read'],
      [3, '/c'],
    ]
    expect(await read(entries('jsonl', chunks, 100))).toEqual([...expected, [4, `/${big.slice(0, 20)}`]])
    const csv = ['url\n', ...chunks]
    expect(await read(entries('csv', csv, 100))).toEqual(
      [...expected, [4, `/${big.slice(0, 20)}`]].map(([line, what]) => [
        (line as number) + 1,
        (what as string).replace(/^line \d+/, `line ${(line as number) + 1}`),
      ]),
    )
  })

  it('numbers CSV records by the input lines, whatever line breaks (CRLF, LF) their quoted fields hold', async () => {
    const csv =
      'url,note\r\n/a,"one\r\ntwo"\r\n/b,x\r\n/c,"3\n4\n5"\n\n# comment\n/d,"q ""x"""\n/e,"a\r\n#b"\n/f,y'
    const read = []
    for await (const entry of entries('csv', [csv])) read.push(entry)
    expect(read.map((e) => [e.line, e.spec])).toEqual([
      [3, { url: '/a', params: { note: 'one\r\ntwo' } }],
      [4, { url: '/b', params: { note: 'x' } }],
      [7, { url: '/c', params: { note: '3\n4\n5' } }],
      [10, { url: '/d', params: { note: 'q "x"' } }],
      [12, { url: '/e', params: { note: 'a\r\n#b' } }],
      [13, { url: '/f', params: { note: 'y' } }],
    ])
  })

  it('gives the CSV records of a chunk together, a record that spans chunks with the chunk it ends in', async () => {
    const groups = []
    const chunks = ['url,note\n/a,x\n/b,"y', '\nz"\n/c,w\n/d,v\n']
    for await (const group of entryChunks(Readable.from(chunks), {
      format: 'csv',
      csv: CSV,
      maxLineBytes: 1024,
    }))
      groups.push(group.map((entry) => entry.line))
    expect(groups).toEqual([[2], [4, 5, 6]])
  })

  it('reads a CSV record with a bad line to its end, so the records after it keep their lines', async () => {
    const csv = bytes('url,note\n/a,"x', [0xff], '\nstill the note"\n/b,y\n/c,"never closed\n/d,z\n')
    expect(await read(entries('csv', [csv]))).toEqual([
      [3, 'line 2: not valid UTF-8 text (is the file in another encoding?)'],
      [4, '/b'],
      [6, 'line 5: a quoted field opened on this line is never closed'],
    ])
  })

  it('refuses a CSV header that cannot be read (exit 2), naming its line', async () => {
    await expect(read(entries('csv', [bytes('url,', [0xff], '\n/a,b\n')]))).rejects.toThrow(
      /^the CSV header cannot be read: line 1: not valid UTF-8/,
    )
  })
})
