import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isJsonText } from '../../src/cli/output/json-text.js'

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Characters that matter to JSON's grammar, so random strings come near valid and invalid JSON alike. */
const jsonish = fc.string({
  unit: fc.constantFrom(...'{}[]":,.-+eE0123456789 \t\n\rtruefalsnl\\u/bAF\u0001\u001f\u2028é'.split('')),
  maxLength: 40,
})

/** A valid JSON text, then one character removed, replaced or inserted at a random place. */
const mutated = fc
  .tuple(
    fc.json(),
    fc.nat(),
    fc.constantFrom('delete', 'replace', 'insert'),
    fc.constantFrom(...'{}[]":,.-+e0 \\u\u0000x'.split('')),
  )
  .map(([text, at, how, c]) => {
    const i = at % (text.length + 1)
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1)
    if (how === 'replace') return text.slice(0, i) + c + text.slice(i + 1)
    return text.slice(0, i) + c + text.slice(i)
  })

describe('isJsonText', () => {
  it('accepts every JSON text, spaced or not, whatever its strings hold', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t'), (value, space) => {
        expect(isJsonText(JSON.stringify(value, null, space))).toBe(true)
      }),
      { numRuns: 2000 },
    )
    expect(isJsonText(` \r\n\t${'['.repeat(20_000)}${']'.repeat(20_000)} `)).toBe(true)
    expect(isJsonText('"\\ud800 \\u00E9 \\/ \u2028 \ud800"')).toBe(true)
  })

  it('answers as JSON.parse does on near-JSON text: one character off, or random grammar characters', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, jsonish), (text) => {
        expect(isJsonText(text)).toBe(parses(text))
      }),
      { numRuns: 20_000 },
    )
    for (const text of [
      '',
      ' ',
      '01',
      '1.',
      '.5',
      '-',
      '1e',
      '+1',
      '"\t"',
      '"\u001f"',
      '"\\x"',
      '"\\u12g4"',
      '[1,]',
      '{"a"}',
      '{,}',
      'nul',
      'true false',
      '\ufeff1',
    ])
      expect([text, isJsonText(text)]).toEqual([text, false])
  })
})
