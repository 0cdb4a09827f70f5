import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { linkHeader, parseLinkHeader } from '../../../src/http/pages/index.js'
import { respond } from './respond.js'

describe('parseLinkHeader', () => {
  test("GitHub's header: every link with its rel, quoted or not", () => {
    const header =
      '<https://api.github.com/repos/a/b/issues?page=2>; rel="next", <https://api.github.com/repos/a/b/issues?page=5>; rel=last'
    expect(parseLinkHeader(header)).toEqual([
      { target: 'https://api.github.com/repos/a/b/issues?page=2', params: { rel: 'next' } },
      { target: 'https://api.github.com/repos/a/b/issues?page=5', params: { rel: 'last' } },
    ])
  })

  test('parameters: case-insensitive names, escaped quotes, the first occurrence wins, several header lines', () => {
    expect(parseLinkHeader(['</a>; REL="next"; title="say \\"hi\\""; rel=prev', '</b>;rel=last'])).toEqual([
      { target: '/a', params: { rel: 'next', title: 'say "hi"' } },
      { target: '/b', params: { rel: 'last' } },
    ])
  })

  test('a malformed part ends the parse and keeps the links before it', () => {
    expect(parseLinkHeader('</a>; rel="next", broken, </c>; rel="last"')).toEqual([
      { target: '/a', params: { rel: 'next' } },
    ])
    expect(parseLinkHeader('<unclosed; rel="next"')).toEqual([])
    expect(parseLinkHeader('')).toEqual([])
    expect(parseLinkHeader(undefined)).toEqual([])
  })

  test('never throws, and every link it gives has a string target and string params (hostile values)', () => {
    const pieces = fc.constantFrom(
      '<',
      '>',
      ';',
      ',',
      '=',
      '"',
      '\\',
      ' ',
      'rel',
      'next',
      '/a?b=1',
      'é',
      '\u0000',
    )
    const hostile = fc.oneof(
      fc.string(),
      fc.array(pieces, { maxLength: 40 }).map((parts) => parts.join('')),
    )
    fc.assert(
      fc.property(hostile, (value) => {
        for (const link of parseLinkHeader(value)) {
          expect(typeof link.target).toBe('string')
          for (const param of Object.values(link.params)) expect(typeof param).toBe('string')
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('linkHeader()', () => {
  const next = linkHeader()
  const info = {
    page: 0,
    spec: { url: '/repos/a/b/issues', method: 'GET', params: { state: 'open' } },
    items: undefined,
  }

  test('follows rel="next", resolved against the URL that answered; keeps the method, drops params (in the URL)', () => {
    const response = respond('https://api.example/repos/a/b/issues?state=open', [], {
      link: '<?state=open&page=2>; rel="next", <https://api.example/x?page=9>; rel="last"',
    })
    expect(next(response, info)).toEqual({
      url: 'https://api.example/repos/a/b/issues?state=open&page=2',
      method: 'GET',
    })
  })

  test('a rel listing several relation types counts', () => {
    const response = respond('https://api.example/l', [], { link: '</l?p=2>; rel="prefetch next"' })
    expect(next(response, info)).toEqual({ url: 'https://api.example/l?p=2', method: 'GET' })
  })

  test('no Link header, no next link, or a malformed one: the last page', () => {
    expect(next(respond('https://api.example/l', []), info)).toBeUndefined()
    expect(next(respond('https://api.example/l', [], { link: '</l?p=9>; rel="last"' }), info)).toBeUndefined()
    expect(next(respond('https://api.example/l', [], { link: '</l?p=2; rel="next"' }), info)).toBeUndefined()
    expect(
      next(respond('https://api.example/l', [], { link: '<http://[bad>; rel="next"' }), info),
    ).toBeUndefined()
  })
})
