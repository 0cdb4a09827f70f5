import { isUtf8 } from 'node:buffer'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { entryChunks } from '../../src/cli/input/open.js'

// Small, so that "huge" lines are cheap to generate; the readers count bytes the same at any cap.
const CAP = 64
// Each case must end well within this (a hang or a quadratic path fails it).
const RUN = { numRuns: 300, timeout: 2000 } as const

/** The bytes of one line (no '\n'): text of every kind, raw bytes, quotes, stray CRs, BOMs, NULs, huge. */
const lineBytes = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 20 }).map((s) => Buffer.from(s)),
    fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
    fc
      .array(fc.constantFrom('"', ',', '\r', '\uFEFF', '\0', '#', ' ', '/a', '{"url":"/b"}', '["/c"]', 'é'), {
        maxLength: 8,
      })
      .map((parts) => Buffer.from(parts.join(''))),
    fc.nat({ max: 3 * CAP }).map((n) => Buffer.alloc(CAP + 1 + n, 'x')),
  )
  .map((bytes) => Buffer.from(bytes.filter((b) => b !== 10)))

/** The bytes cut into chunks at arbitrary places (mid-character, mid-CRLF). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  return [...at, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : at[i - 1], end))
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out = []
  for await (const item of items) out.push(item)
  return out
}

const CSV = { urlColumn: 'url', idColumn: undefined, paramColumns: undefined, method: 'GET' }

/** The entries of CSV bytes in these chunks, as `volley run` reads them. */
async function* csvEntries(chunks: Buffer[]) {
  const options = { format: 'csv', csv: CSV, maxLineBytes: CAP } as const
  for await (const group of entryChunks(Readable.from(chunks), options)) yield* group
}

/** What a line should become, from the bytes alone (an oracle independent of the reader). */
function expected(bytes: Buffer, line: number): 'error' | 'skip' | string {
  if (bytes.length > CAP || !isUtf8(bytes)) return 'error'
  let text = bytes.toString('utf8')
  if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1)
  if (text.endsWith('\r')) text = text.slice(0, -1)
  const trimmed = text.trim()
  return trimmed === '' || trimmed.startsWith('#') ? 'skip' : trimmed
}

describe('input readers under arbitrary bytes', () => {
  it('JSONL and URL lists: one entry per line that is not blank, on its own line number; every bad line an error naming it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineBytes, { maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (lines, finalNewline, cuts) => {
          const input = Buffer.concat(
            lines.flatMap((l, i) => (i < lines.length - 1 || finalNewline ? [l, Buffer.from('\n')] : [l])),
          )
          const want = lines
            .map((bytes, i) => [i + 1, expected(bytes, i + 1)] as const)
            .filter(([, w]) => w !== 'skip')
          for (const format of ['jsonl', 'urls'] as const) {
            const options = { format, csv: CSV, maxLineBytes: CAP }
            const groups = await collect(entryChunks(Readable.from(chunked(input, cuts)), options))
            const entries = groups.flat()
            expect(entries.map((e) => e.line)).toEqual(want.map(([line]) => line))
            for (const [i, entry] of entries.entries()) {
              const [line, what] = want[i]!
              if (what === 'error') expect(entry.error?.message).toMatch(new RegExp(`^line ${line}: `))
              else if (entry.error) expect(entry.error.message).toMatch(new RegExp(`^line ${line}: `))
              // A URL list takes the line as is; JSONL too when it does not start like JSON.
              else if (format === 'urls') expect(entry.spec).toBe(what)
            }
          }
        },
      ),
      RUN,
    )
  })

  it('CSV: each record on the line where it ends, whatever its quoted fields hold; a bad one an error naming a line of it', async () => {
    const plain = fc.stringMatching(/^[a-z0-9 ]{0,6}$/)
    const quoted = fc
      .array(fc.constantFrom('a', ',', '""', '\n', '\r\n', '#', ' ', 'é', '\r'), { maxLength: 6 })
      .map((parts) => `"${parts.join('')}"`)
    const bad = fc.constantFrom(
      Buffer.from([0xff]), // not UTF-8
      Buffer.from(`"${'y'.repeat(CAP)}"`), // over the cap
      Buffer.from('x"y'), // a quote inside an unquoted field
      Buffer.from('"1",2'), // a fourth field
    )
    const record = fc.record({
      url: fc.nat({ max: 99 }).map((n) => `/p${n}`),
      fields: fc.tuple(fc.oneof(plain, quoted), fc.oneof(plain, quoted)),
      bad: fc.option(bad, { freq: 4 }),
      crlf: fc.boolean(),
      // Blank and comment lines before it: skipped, but counted.
      before: fc.array(fc.constantFrom('', '# a comment, "quoted', ' '), { maxLength: 2 }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (records, cuts) => {
          const parts: Buffer[] = [Buffer.from('\uFEFFurl,a,b\r\n')]
          let lines = 1
          const want: { first: number; last: number; spec?: unknown }[] = []
          for (const r of records) {
            for (const text of r.before) parts.push(Buffer.from(`${text}\n`))
            lines += r.before.length
            const first = lines + 1
            const row = Buffer.concat([
              Buffer.from(`${r.url},${r.fields[0]},`),
              r.bad ?? Buffer.from(r.fields[1]),
              Buffer.from(r.crlf ? '\r\n' : '\n'),
            ])
            parts.push(row)
            lines += row.filter((b) => b === 10).length
            const unquote = (f: string) => (f.startsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f)
            const cells = { a: unquote(r.fields[0]), b: unquote(r.fields[1]) }
            const params = Object.fromEntries(Object.entries(cells).filter(([, v]) => v !== ''))
            want.push({ first, last: lines, spec: r.bad ? undefined : { url: r.url, params } })
          }
          const entries = await collect(csvEntries(chunked(Buffer.concat(parts), cuts)))
          expect(entries.map((e) => e.line)).toEqual(want.map((w) => w.last))
          for (const [i, entry] of entries.entries()) {
            const { first, last, spec } = want[i]!
            if (spec) expect(entry.spec).toEqual(spec)
            else {
              const named = Number(/^line (\d+): /.exec(entry.error!.message)?.[1])
              expect(named >= first && named <= last, entry.error!.message).toBe(true)
            }
          }
        },
      ),
      RUN,
    )
  })

  it('CSV of arbitrary lines: no crash and no hang; entries in order, each naming a line it holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineBytes, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (lines, cuts) => {
          const input = Buffer.concat([
            Buffer.from('url,q\n'),
            ...lines.flatMap((l) => [l, Buffer.from('\n')]),
          ])
          const entries = await collect(csvEntries(chunked(input, cuts)))
          let previous = 1
          for (const entry of entries) {
            expect(entry.line).toBeGreaterThan(previous)
            expect(entry.line).toBeLessThanOrEqual(lines.length + 1)
            if (entry.error) {
              const named = Number(/^line (\d+): /.exec(entry.error.message)?.[1])
              expect(named > previous && named <= entry.line, entry.error.message).toBe(true)
            }
            previous = entry.line
          }
        },
      ),
      RUN,
    )
  })
})
