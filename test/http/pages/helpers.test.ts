import { describe, expect, test } from 'vitest'
import { InvalidOptionError } from '../../../src/errors.js'
import { createClient } from '../../../src/http/client.js'
import { cursor, offset, pageNumber, stripe } from '../../../src/http/pages/index.js'
import type { PageInfo } from '../../../src/http/pages/index.js'
import { pageItems } from '../../../src/http/pages/path.js'
import { respond } from './respond.js'

const info = (url: string, items?: unknown[]): PageInfo => ({
  page: 0,
  spec: { url, method: 'POST', headers: { 'x-team': 't1' }, json: { q: 1 } },
  items,
})

describe('cursor()', () => {
  const next = cursor({ from: 'response_metadata.next_cursor', to: 'cursor' })

  test('puts the cursor at the dotted path into the query; keeps the request (method, headers, body)', () => {
    const url = 'https://slack.example/users.list?limit=2'
    const response = respond(url, { ok: true, response_metadata: { next_cursor: 'dXNlcjo=' } })
    expect(next(response, info(url))).toEqual({
      url: 'https://slack.example/users.list?limit=2&cursor=dXNlcjo%3D',
      method: 'POST',
      headers: { 'x-team': 't1' },
      json: { q: 1 },
    })
  })

  test('replaces the cursor of the page before', () => {
    const url = 'https://slack.example/l?cursor=a'
    expect(next(respond(url, { response_metadata: { next_cursor: 'b' } }), info(url))).toMatchObject({
      url: 'https://slack.example/l?cursor=b',
    })
  })

  test('absent, null or empty: the last page', () => {
    const url = 'https://slack.example/l'
    for (const body of [
      {},
      { response_metadata: null },
      { response_metadata: { next_cursor: null } },
      { response_metadata: { next_cursor: '' } },
    ]) {
      expect(next(respond(url, body), info(url))).toBeUndefined()
    }
  })

  test('bad options name the option', () => {
    expect(() => cursor({ from: '', to: 'cursor' })).toThrow(/cursor\(\): `from` must be a non-empty string/)
    expect(() => cursor({ from: 'x' } as never)).toThrow(InvalidOptionError)
  })
})

describe('stripe()', () => {
  const next = stripe()
  const url = 'https://stripe.example/v1/charges?limit=2'

  test('has_more: starting_after the last item id', () => {
    const body = { object: 'list', data: [{ id: 'ch_1' }, { id: 'ch_2' }], has_more: true }
    expect(next(respond(url, body), info(url))).toMatchObject({ url: `${url}&starting_after=ch_2` })
  })

  test('has_more false or absent: the last page', () => {
    expect(next(respond(url, { data: [{ id: 'a' }], has_more: false }), info(url))).toBeUndefined()
    expect(next(respond(url, { data: [{ id: 'a' }] }), info(url))).toBeUndefined()
  })

  test('custom paths; has_more with no id to start after is an error naming the path', () => {
    const custom = stripe({ items: 'result.rows', id: 'key', param: 'after' })
    const body = { has_more: true, result: { rows: [{ key: 7 }] } }
    expect(custom(respond(url, body), info(url))).toMatchObject({ url: `${url}&after=7` })
    expect(() => next(respond(url, { has_more: true, data: [] }), info(url))).toThrow(
      /last item at "data" has no "id"/,
    )
  })
})

describe('offset()', () => {
  const next = offset({ limit: 10 })

  test('steps by limit from the offset in the URL (0 when absent) until the total', () => {
    const first = 'https://api.example/l?limit=10'
    expect(next(respond(first, { total: 25 }), info(first))).toMatchObject({ url: `${first}&offset=10` })
    const third = 'https://api.example/l?limit=10&offset=20'
    expect(next(respond(third, { total: 25 }), info(third))).toBeUndefined()
    const exact = 'https://api.example/l?offset=10'
    expect(next(respond(exact, { total: 20 }), info(exact))).toBeUndefined()
  })

  test('without a total: a short page is the last; without items either, an error naming both', () => {
    const url = 'https://api.example/l'
    expect(next(respond(url, {}), info(url, new Array(10).fill(0)))).toMatchObject({
      url: `${url}?offset=10`,
    })
    expect(next(respond(url, {}), info(url, [1, 2]))).toBeUndefined()
    expect(() => next(respond(url, {}), info(url))).toThrow(/`total` "total" and paginate has no `items`/)
  })

  test('bad options name the option', () => {
    expect(() => offset({ limit: 0 })).toThrow(/offset\(\): `limit` must be a whole number >= 1, got 0/)
    expect(() => offset({ limit: 5, param: '' })).toThrow(/`param`/)
  })
})

describe('pageNumber()', () => {
  const next = pageNumber()

  test('page + 1 (1 when absent) until total_pages', () => {
    const url = 'https://api.example/l?per_page=5'
    expect(next(respond(url, { total_pages: 3 }), info(url))).toMatchObject({ url: `${url}&page=2` })
    const last = 'https://api.example/l?page=3'
    expect(next(respond(last, { total_pages: 3 }), info(last))).toBeUndefined()
  })

  test('pages from 0; without a total an empty page is the last', () => {
    const zero = pageNumber({ first: 0, total: 'meta.pages' })
    const url = 'https://api.example/l?page=1'
    expect(zero(respond(url, { meta: { pages: 3 } }), info(url))).toMatchObject({
      url: 'https://api.example/l?page=2',
    })
    expect(zero(respond(url, { meta: { pages: 2 } }), info(url))).toBeUndefined()
    expect(next(respond(url, {}), info(url, [1]))).toMatchObject({ url: 'https://api.example/l?page=2' })
    expect(next(respond(url, {}), info(url, []))).toBeUndefined()
  })
})

describe('paginate options', () => {
  test('bad options are refused before anything is sent, naming the option', async () => {
    await using api = createClient({ baseUrl: 'http://127.0.0.1:9' })
    const first = (options: object) => api.paginate('/l', options as never).next()
    await expect(first({ maxItems: 3 })).rejects.toThrow(
      /paginate: `maxItems` counts items: give `items` too/,
    )
    await expect(first({ maxPages: 0 })).rejects.toThrow(
      /paginate: `maxPages` must be a whole number >= 1, got 0/,
    )
    await expect(first({ next: 'link' })).rejects.toThrow(/paginate: `next` must be a function, got "link"/)
    await expect(first({ items: 3 })).rejects.toThrow(/paginate: `items` must be a dotted path or a function/)
    expect(() => api.paginateAll(['/l'], { maxItems: 2.5, items: 'data' })).toThrow(
      /paginateAll: `maxItems` must be a whole number >= 1, got 2.5/,
    )
  })
})

describe('pageItems', () => {
  const url = 'https://api.example/l?token=secret'

  test('the array at a dotted path; null is no items', () => {
    expect(pageItems(respond(url, { result: { items: [1, 2] } }), 'result.items')).toEqual([1, 2])
    expect(pageItems(respond(url, { data: null }), 'data')).toEqual([])
    expect(pageItems(respond(url, [3]), (response) => response.json<number[]>())).toEqual([3])
  })

  test('a path not in the body, or not an array, is an error naming the path (URL redacted)', () => {
    expect(() => pageItems(respond(url, { data: [] }), 'dta')).toThrow(
      /^paginate: `items` path "dta" did not give an array for https:\/\/api.example\/l\?token=\[REDACTED\], got nothing$/,
    )
    expect(() => pageItems(respond(url, { data: {} }), 'data')).toThrow(/got object$/)
    expect(() => pageItems(respond(url, {}), () => 'x' as never)).toThrow(
      /the `items` function did not give an array/,
    )
  })
})
