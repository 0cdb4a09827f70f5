import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/main.js'
import { fakeIo } from './fake-io.js'
import { readOutput, serverFixture } from './helpers.js'
import { startStripeServer } from './stripe.js'

const fixture = serverFixture(() => startStripeServer())
const { tmp } = fixture

let uid = 0
const order = () => JSON.stringify({ url: '/orders', json: { uid: ++uid } })
const edit = fc.record({
  op: fc.constantFrom('insert', 'delete', 'change', 'copy', 'blank'),
  at: fc.nat(),
  from: fc.nat(),
})

/** Input lines after the edits: new orders, lines removed, copies of other lines, blank lines. */
function applyEdits(lines: string[], edits: readonly { op: string; at: number; from: number }[]) {
  const out = [...lines]
  for (const { op, at, from } of edits) {
    if (op === 'insert') out.splice(at % (out.length + 1), 0, order())
    else if (op === 'blank') out.splice(at % (out.length + 1), 0, at % 2 ? '' : '# a note')
    else if (out.length === 0) continue
    else if (op === 'delete') out.splice(at % out.length, 1)
    else if (op === 'change') out[at % out.length] = order()
    else out.splice(at % (out.length + 1), 0, out[from % out.length]!)
  }
  return out
}

const uidOf = (line: string) => (JSON.parse(line) as { json: { uid: number } }).json.uid
const timesCreated = (id: number) =>
  fixture.server.created.filter((o) => (o as { uid: number }).uid === id).length

describe('--resume after the input was edited', () => {
  it('never skips or doubles a line: it completes once per current line, or refuses naming the first changed line', async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        fc.boolean(),
        fc.array(edit, { maxLength: 3 }),
        async (count, kept, torn, edits) => {
          const old = Array.from({ length: count }, order)
          const input = tmp.file(`edits-${++n}.jsonl`, `${old.join('\n')}\n`)
          const out = join(tmp.dir, `edits-${n}.results.jsonl`)
          const argv = ['run', input, '--base-url', fixture.server.url, '--out', out, '--quiet']
          expect(await run(argv, fakeIo())).toBe(0)

          // A kill: the results of some requests written, the others in flight (sent, never written),
          // maybe one cut short mid-write.
          const [job, ...results] = readFileSync(out, 'utf8').trimEnd().split('\n')
          const written = results.filter((_, i) => kept[i])
          const lost = results.find((_, i) => !kept[i])
          writeFileSync(out, [job, ...written, ''].join('\n') + (torn && lost ? lost.slice(0, 20) : ''))
          const lines = applyEdits(old, edits)
          writeFileSync(input, `${lines.join('\n')}\n`)

          const done = written
            .map((text) => (JSON.parse(text) as { index: number }).index)
            .sort((a, b) => a - b)
          const changed = done.find((index) => lines[index - 1] !== old[index - 1])
          const createdBefore = fixture.server.created.length
          const io = fakeIo()
          const code = await run([...argv, '--resume'], io)
          if (changed !== undefined) {
            expect(code, io.stderr.text).toBe(2)
            expect(io.stderr.text).toMatch(new RegExp(`--resume: input line ${changed} is not the line`))
            expect(fixture.server.created.length).toBe(createdBefore)
            return
          }
          expect(code, io.stderr.text).toBe(0)
          // One result per request line, for what that line asks now.
          const requests = lines.flatMap((text, i) => (text.startsWith('{') ? [i + 1] : []))
          const output = readOutput(out).sort((a, b) => a.index - b.index)
          expect(output.map((line) => line.index)).toEqual(requests)
          for (const line of output) expect(line.json.order.uid).toBe(uidOf(lines[line.index - 1]!))
          // At the API, an order is created once per (line, content) the job sent: a line where it
          // was, as it was, was created once (skipped, or sent again under its key and replayed); a
          // copy, or a line the edits moved, is another request, under its new line's key.
          for (const id of new Set(requests.map((index) => uidOf(lines[index - 1]!)))) {
            const at = (list: string[], i: number) =>
              list[i] !== undefined && list[i]!.startsWith('{') && uidOf(list[i]!) === id
            const moved = lines.filter((_, i) => at(lines, i) && !at(old, i)).length
            expect(timesCreated(id), `order ${id}`).toBe((old.some((_, i) => at(old, i)) ? 1 : 0) + moved)
          }
        },
      ),
      { numRuns: 30 },
    )
  }, 60_000)
})
