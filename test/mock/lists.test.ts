import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { describeMockServer, type MockServer, startMockServer } from '../../src/mock/index.js'

let server: MockServer
beforeAll(async () => {
  server = await startMockServer({ seed: 1 })
})
afterAll(() => server.close())

const get = async (path: string) => {
  const reply = await fetch(`${server.url}${path}`)
  return { status: reply.status, link: reply.headers.get('link'), body: (await reply.json()) as unknown }
}

describe('GET /lists/:name', () => {
  test('GitHub style: an array body, Link with rel="next" and rel="last" (path-absolute), no next on the last page', async () => {
    const first = await get('/lists/gh?style=link&pages=3&size=2')
    expect(first.body).toEqual([
      { id: 'gh-0', list: 'gh', n: 0 },
      { id: 'gh-1', list: 'gh', n: 1 },
    ])
    expect(first.link).toBe(
      '</lists/gh?style=link&pages=3&size=2&page=2>; rel="next", </lists/gh?style=link&pages=3&size=2&page=3>; rel="last"',
    )
    const last = await get('/lists/gh?style=link&pages=3&size=2&page=3')
    expect(last.link).toBe('</lists/gh?style=link&pages=3&size=2&page=3>; rel="last"')
    expect((await get('/lists/gh?style=link&pages=3&malformed=link')).link).not.toContain('>')
  })

  test('Slack style: members and response_metadata.next_cursor, empty on the last page; loop=K repeats page K', async () => {
    const first = await get('/lists/s?style=cursor&pages=2&size=1')
    const cursor = (first.body as { response_metadata: { next_cursor: string } }).response_metadata
      .next_cursor
    expect(first.body).toMatchObject({ ok: true, members: [{ id: 's-0', n: 0 }] })
    expect(cursor).not.toBe('')
    const second = await get(`/lists/s?style=cursor&pages=2&size=1&cursor=${cursor}`)
    expect(second.body).toMatchObject({ members: [{ id: 's-1' }], response_metadata: { next_cursor: '' } })
    const looping = await get(`/lists/s?style=cursor&pages=5&size=1&loop=2&cursor=${cursor}`)
    expect(looping.body).toMatchObject({ response_metadata: { next_cursor: cursor } })
  })

  test('Stripe, offset and page styles', async () => {
    expect((await get('/lists/p?style=stripe&pages=2&size=2')).body).toMatchObject({
      object: 'list',
      has_more: true,
      data: [{ id: 'p-0' }, { id: 'p-1' }],
    })
    expect((await get('/lists/p?style=stripe&pages=2&size=2&starting_after=p-1')).body).toMatchObject({
      has_more: false,
      data: [{ id: 'p-2' }, { id: 'p-3' }],
    })
    expect((await get('/lists/o?style=offset&pages=3&size=2&offset=4')).body).toEqual({
      items: [
        { id: 'o-4', list: 'o', n: 4 },
        { id: 'o-5', list: 'o', n: 5 },
      ],
      offset: 4,
      limit: 2,
      total: 6,
    })
    expect((await get('/lists/n?style=page&pages=3&size=1&page=2')).body).toEqual({
      items: [{ id: 'n-1', list: 'n', n: 1 }],
      page: 2,
      total_pages: 3,
      total: 3,
    })
  })

  test('bad queries are 400s naming the parameter; requests are counted under the route; the endpoint is described', async () => {
    server.resetStats()
    expect(await get('/lists/x?style=nope')).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^style must be one of link, cursor/) },
    })
    expect(await get('/lists/x?style=link&pages=0')).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^pages must be/) },
    })
    expect(await get('/lists/x?style=cursor&cursor=zz')).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^cursor is not one/) },
    })
    expect(server.stats().byPath['/lists/:name']).toBe(3)
    expect(describeMockServer(server)).toContain('/lists/:name')
  })
})
