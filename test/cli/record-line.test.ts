import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errorRecord, RawJson, type ResultRecord, recordLine } from '../../src/cli/output/record.js'

/** What the line must be: JSON.stringify of the record, a RawJson body spliced in last as received. */
function reference(record: ResultRecord): string {
  const json = record.json
  if (!(json instanceof RawJson)) return `${JSON.stringify(record)}\n`
  return `${JSON.stringify({ ...record, json: undefined }).slice(0, -1)},"json":${json.text}}\n`
}

const count = fc.nat({ max: 10_000_000 })
const text = fc.string({ unit: 'binary' })
const timing = fc
  .record({
    at: count,
    wait: count,
    rate: count,
    ms: count,
    outcome: fc.option(fc.oneof(fc.integer({ min: 100, max: 599 }), text)),
  })
  .map(({ outcome, ...t }) =>
    outcome === null ? t : typeof outcome === 'number' ? { ...t, status: outcome } : { ...t, error: outcome },
  )
const body = fc.oneof(
  fc.constant({}),
  fc.jsonValue().map((value) => ({ json: new RawJson(JSON.stringify(value)) })),
  fc.jsonValue().map((json) => ({ json })),
  text.map((t) => ({ text: t })),
  fc
    .record(
      { code: text, message: text, status: fc.integer({ min: 100, max: 599 }), body: text },
      { requiredKeys: ['code', 'message'] },
    )
    .map((error) => ({ error })),
)
/** A plain request's record, fields in the order responseRecord and errorRecord give them. */
const record = fc
  .record({
    id: fc.oneof(fc.integer(), text),
    index: fc.integer({ min: 1 }),
    hash: fc.stringMatching(/^[0-9a-f]{16}$/),
    ok: fc.boolean(),
    status: fc.option(fc.integer({ min: 100, max: 599 })),
    attempts: fc.nat({ max: 10 }),
    ms: count,
    timed: fc.option(fc.record({ start: fc.nat(), tries: fc.array(timing, { maxLength: 3 }) })),
    body,
  })
  .map(({ timed, body, ...fields }): ResultRecord => ({ ...fields, ...timed, ...body }))

describe('output lines', () => {
  it("write a request's record exactly as JSON.stringify would, whatever its id, body, error and timings hold", () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(recordLine(r)).toBe(reference(r))
      }),
      { numRuns: 2000 },
    )
  })

  it('write a page record (page after hash) by JSON.stringify, its RawJson body last', () => {
    const page: ResultRecord = {
      id: 7,
      index: 7,
      hash: '0123456789abcdef',
      page: 2,
      ok: true,
      status: 200,
      attempts: 1,
      ms: 3,
      next: null,
      json: new RawJson('{"a":[1,2]}'),
    }
    expect(recordLine(page)).toBe(
      '{"id":7,"index":7,"hash":"0123456789abcdef","page":2,"ok":true,"status":200,"attempts":1,"ms":3,"next":null,"json":{"a":[1,2]}}\n',
    )
  })
  it("write an error's numbers only when they are finite: a NaN status from a user's layer is null, the line stays JSON", () => {
    const thrown = Object.assign(new Error('odd'), { status: Number('abc'), attempts: Infinity, ms: NaN })
    const line = recordLine(errorRecord(thrown, { id: 1, index: 1, hash: '0123456789abcdef' }, []))
    expect(JSON.parse(line)).toMatchObject({ status: null, attempts: 0, ms: 0, error: { message: 'odd' } })
  })
})
