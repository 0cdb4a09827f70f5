import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createClient } from '../../../src/http/client.js'
import { MaxPagesError, PageLoopError } from '../../../src/http/errors.js'
import {
  cursor,
  linkHeader,
  type NextPage,
  offset,
  pageNumber,
  stripe,
} from '../../../src/http/pages/index.js'
import type { Response } from '../../../src/http/response.js'
import { type MockServer, startMockServer } from '../../../src/mock/index.js'
import type { ListItem, ListStyle } from '../../../src/mock/lists.js'

const RATE = 200
/** `mock` has no rate limit, so counts are exact; `limited` holds a rate at the server. */
let mock: MockServer
let limited: MockServer
beforeAll(async () => {
  mock = await startMockServer({ seed: 13 })
  limited = await startMockServer({ rate: `${RATE}/s`, seed: 13 })
})
beforeEach(() => mock.resetStats())
afterAll(async () => {
  await mock.close()
  await limited.close()
})

/** The helper and the items path each of the mock's styles is read with. */
const STYLES: Record<ListStyle, { next: NextPage; items: string }> = {
  link: { next: linkHeader(), items: '' },
  cursor: { next: cursor({ from: 'response_metadata.next_cursor', to: 'cursor' }), items: 'members' },
  stripe: { next: stripe(), items: 'data' },
  offset: { next: offset({ limit: 4 }), items: 'items' },
  page: { next: pageNumber(), items: 'items' },
}
const styleOf = (response: Response) => new URL(response.url).searchParams.get('style') as ListStyle
/** One `next` and `items` for lists of every style, picked by the URL's ?style=. */
const anyStyle = {
  next: ((response, page) => STYLES[styleOf(response)].next(response, page)) satisfies NextPage,
  items: (response: Response) => {
    const path = STYLES[styleOf(response)].items
    const body = response.json<Record<string, ListItem[]>>()
    return path === '' ? (body as unknown as ListItem[]) : body[path]
  },
}
const pagesFetched = () => mock.stats().byPath['/lists/:name'] ?? 0

describe('paginate against the mock, one list per style', () => {
  for (const style of Object.keys(STYLES) as ListStyle[]) {
    test(`${style}: every item once, in order, one request per page`, async () => {
      await using api = createClient({ baseUrl: mock.url })
      const items: ListItem[] = []
      for await (const item of api.paginate<ListItem>(
        `/lists/${style}?style=${style}&pages=5&size=4`,
        anyStyle,
      )) {
        items.push(item)
      }
      expect(items.map((item) => item.n)).toEqual(Array.from({ length: 20 }, (_, n) => n))
      expect(items.every((item) => item.list === style && item.id === `${style}-${item.n}`)).toBe(true)
      expect(pagesFetched()).toBe(5)
    })
  }

  test('without `items`: the pages, as Responses', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const statuses: number[] = []
    for await (const page of api.paginate('/lists/l?style=link&pages=3&size=2')) statuses.push(page.status)
    expect(statuses).toEqual([200, 200, 200])
  })

  test('a malformed Link header ends the list quietly after its page', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const items: unknown[] = []
    for await (const item of api.paginate('/lists/m?style=link&pages=5&size=3&malformed=link', {
      items: (r) => r.json<unknown[]>(),
    })) {
      items.push(item)
    }
    expect(items).toHaveLength(3)
    expect(pagesFetched()).toBe(1)
  })

  test('a Link that points back to the first page (given relative, the link absolute) is a loop, caught before fetching it again', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const error = await (async () => {
      for await (const _ of api.paginate('/lists/r?style=link&pages=5&size=1&loop=1&page=1')) continue
    })().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(PageLoopError)
    expect(error).toMatchObject({ code: 'PAGE_LOOP', page: 0, list: undefined })
    expect(pagesFetched()).toBe(1)
  })

  test('aborting the signal ends the iteration with an AbortError', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const controller = new AbortController()
    let read = 0
    const error = await (async () => {
      for await (const _ of api.paginate('/lists/a?style=link&pages=50&size=1', {
        signal: controller.signal,
      })) {
        if (++read === 3) controller.abort()
      }
    })().catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({ name: 'AbortError' })
    expect(read).toBe(3)
    expect(pagesFetched()).toBe(3)
  })

  test('maxItems stops quietly without fetching further pages; maxPages ends with an error naming the page', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const taken: ListItem[] = []
    for await (const item of api.paginate<ListItem>('/lists/x?style=page&pages=9&size=5', {
      items: 'items',
      next: pageNumber(),
      maxItems: 7,
    })) {
      taken.push(item)
    }
    expect(taken.map((item) => item.n)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(pagesFetched()).toBe(2)

    mock.resetStats()
    const pages = api.paginate('/lists/y?style=link&pages=9&size=1', { maxPages: 3 })
    let seen = 0
    const error = await (async () => {
      for await (const _ of pages) seen++
    })().catch((thrown: unknown) => thrown)
    expect(seen).toBe(3)
    expect(error).toBeInstanceOf(MaxPagesError)
    expect(error).toMatchObject({ code: 'MAX_PAGES', page: 2, list: undefined })
    expect((error as Error).message).toMatch(
      /^paginate: page 2 \(from 0\) asks for one more page past maxPages \(3\)/,
    )
    expect(pagesFetched()).toBe(3)
  })
})

describe('paginateAll against the mock', () => {
  test(`50 lists of 1-30 pages in every style at once: every item once, in order per list, no window over ${RATE}/s at the server`, async () => {
    await using api = createClient({ baseUrl: limited.url, rate: `${RATE}/s`, concurrency: 20 })
    const styles = Object.keys(STYLES) as ListStyle[]
    const lists = Array.from({ length: 50 }, (_, i) => ({
      style: styles[i % styles.length]!,
      pages: 1 + ((i * 7) % 30),
      size: i % 5 === 3 ? 4 : 1 + (i % 3),
    }))
    const specs = lists.map(
      ({ style, pages, size }, i) => `/lists/l${i}?style=${style}&pages=${pages}&size=${size}`,
    )
    const got = lists.map(() => [] as number[])
    const pageOrder = lists.map(() => [] as number[])
    for await (const result of api.paginateAll<ListItem>(specs, anyStyle)) {
      if (!result.ok) throw result.error
      expect(result.item.list).toBe(`l${result.list}`)
      got[result.list]!.push(result.item.n)
      pageOrder[result.list]!.push(result.page)
    }
    for (const [i, { pages, size }] of lists.entries()) {
      expect(got[i], `list ${i}`).toEqual(Array.from({ length: pages * size }, (_, n) => n))
      expect(pageOrder[i], `list ${i}`).toEqual(got[i]!.map((n) => Math.floor(n / size)))
    }
    const stats = limited.stats()
    const totalPages = lists.reduce((sum, list) => sum + list.pages, 0)
    expect(stats.maxWindowAdmitted).toBeLessThanOrEqual(RATE)
    // Each page fetched once; a request the server refused (429) is retried, and counted once more.
    expect(stats.byPath['/lists/:name']).toBe(totalPages + stats.rateLimited)
  }, 60_000)

  test('a `next` loop ends that list with an error naming it and the page; the other lists complete', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const specs = [0, 1, 2, 3].map(
      (i) => `/lists/c${i}?style=cursor&pages=6&size=2${i === 2 ? '&loop=3' : ''}`,
    )
    const items = specs.map(() => [] as number[])
    const failures: { list: number; page: number; error: Error }[] = []
    for await (const result of api.paginateAll<ListItem>(specs, STYLES.cursor)) {
      if (result.ok) items[result.list]!.push(result.item.n)
      else failures.push(result)
    }
    expect(failures).toHaveLength(1)
    const [failure] = failures
    expect(failure).toMatchObject({ list: 2, page: 2 })
    expect(failure!.error).toBeInstanceOf(PageLoopError)
    expect(failure!.error.message).toMatch(
      /^paginateAll list 2: page 2 \(from 0\) asks for a page the list already fetched/,
    )
    expect(items[2]).toEqual([0, 1, 2, 3, 4, 5])
    for (const i of [0, 1, 3]) expect(items[i]).toEqual(Array.from({ length: 12 }, (_, n) => n))
    // The looping page was not fetched a second time.
    expect(pagesFetched()).toBe(6 * 3 + 3)
  })

  test('a list whose page fails yields one failed result for it; without `items` the results are the pages', async () => {
    await using api = createClient({ baseUrl: mock.url, retry: false })
    const specs = [
      '/lists/a?style=link&pages=2&size=1',
      '/lists/b?style=nope',
      '/lists/c?style=link&pages=3&size=1',
    ]
    const pages: string[] = []
    const failed: number[] = []
    for await (const result of api.paginateAll(specs)) {
      if (result.ok) pages.push(`${result.list}:${result.page}:${result.item.status}`)
      else failed.push(result.list)
    }
    expect(failed).toEqual([1])
    expect(pages.sort()).toEqual(['0:0:200', '0:1:200', '2:0:200', '2:1:200', '2:2:200'])
  })

  test('a slow reader holds the lists back: pages are fetched only a bounded way ahead of what was read', async () => {
    await using api = createClient({ baseUrl: mock.url, concurrency: 4 })
    const specs = Array.from({ length: 4 }, (_, i) => `/lists/s${i}?style=link&pages=500&size=1`)
    const results = api.paginateAll(specs)
    await results.next()
    await new Promise((resolve) => setTimeout(resolve, 300))
    // The queue holds 64 results at most (twice the concurrency, at least 64), plus a page in flight per list.
    expect(pagesFetched()).toBeLessThanOrEqual(1 + 64 + 4)
    await results.return?.()
  })

  test('pages are retried like any request: every item once through injected 500s and resets', async () => {
    await using faulty = await startMockServer({ faults: { 500: 0.15, reset: 0.05 }, seed: 5 })
    await using api = createClient({
      baseUrl: faulty.url,
      retry: { attempts: 10, backoff: { base: 1, max: 5 } },
      circuitBreaker: false,
    })
    const specs = Array.from({ length: 10 }, (_, i) => `/lists/f${i}?style=offset&pages=6&size=4`)
    const got = specs.map(() => [] as number[])
    for await (const result of api.paginateAll<ListItem>(specs, STYLES.offset)) {
      if (!result.ok) throw result.error
      got[result.list]!.push(result.item.n)
    }
    for (const items of got) expect(items).toEqual(Array.from({ length: 24 }, (_, n) => n))
    const stats = faulty.stats()
    expect((stats.byStatus['500'] ?? 0) + stats.resets).toBeGreaterThan(0)
    expect(stats.byPath['/lists/:name']).toBe(60 + (stats.byStatus['500'] ?? 0) + stats.resets)
  })

  test('stop rules hold across lists: a 401 (in stopOn by default) stops every list, each ending with one failed result', async () => {
    await using api = createClient({ baseUrl: mock.url, concurrency: 2 })
    const specs = [
      '/status/401',
      ...Array.from({ length: 6 }, (_, i) => `/lists/u${i}?style=link&pages=50&size=1`),
    ]
    const failures = new Map<number, string>()
    for await (const result of api.paginateAll(specs)) {
      if (!result.ok) {
        expect(failures.has(result.list)).toBe(false)
        failures.set(result.list, result.error.name)
      }
    }
    expect([...failures.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(failures.get(0)).toBe('HttpError')
    expect(pagesFetched()).toBeLessThan(50)
  })

  test('specs read lazily from an async iterable; an input that throws ends the iteration with its error', async () => {
    await using api = createClient({ baseUrl: mock.url })
    async function* specs() {
      yield '/lists/g?style=link&pages=2&size=1'
      throw new Error('the input broke')
    }
    const seen: number[] = []
    const error = await (async () => {
      for await (const result of api.paginateAll(specs())) if (result.ok) seen.push(result.page)
    })().catch((thrown: unknown) => thrown)
    expect((error as Error).message).toBe('the input broke')
    expect(seen.length).toBeLessThanOrEqual(2)
  })

  test('leaving the loop early stops the lists: nothing more is fetched', async () => {
    await using api = createClient({ baseUrl: mock.url, concurrency: 4 })
    const specs = Array.from({ length: 20 }, (_, i) => `/lists/e${i}?style=link&pages=30&size=1`)
    let read = 0
    for await (const _ of api.paginateAll(specs)) if (++read === 10) break
    // Requests already on the wire when the loop ended may still land; after that, none.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const fetched = pagesFetched()
    expect(fetched).toBeLessThan(20 * 30)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(pagesFetched()).toBe(fetched)
    expect(mock.stats().inFlight).toBe(0)
  })
})
