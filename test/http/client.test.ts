import { getEventListeners } from 'node:events'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import type { RequestSpec } from '../../src/http/spec.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { eventually, tinyServer } from './helpers.js'

let mock: MockServer
beforeAll(async () => {
  mock = await startMockServer({ seed: 1 })
})
afterAll(() => mock.close())

interface Echo {
  method: string
  path: string
  query: Record<string, string | string[]>
  headers: Record<string, string>
  json: unknown
}

describe('request specs', () => {
  test('a string, a [path, params] tuple and an object each resolve against the baseUrl path', async () => {
    await using api = createClient({ baseUrl: `${mock.url}/anything/v1`, headers: { 'x-client': 'volley' } })
    const fromString = (await api.request('/users/1?b=2')).json<Echo>()
    expect(fromString).toMatchObject({ method: 'GET', path: '/anything/v1/users/1', query: { b: '2' } })
    expect(fromString.headers['x-client']).toBe('volley')

    const fromTuple = (
      await api.request(['search', { q: 'a b', tag: ['x', 'y'], skip: undefined }])
    ).json<Echo>()
    expect(fromTuple).toMatchObject({ path: '/anything/v1/search', query: { q: 'a b', tag: ['x', 'y'] } })

    const fromObject = await api.request({
      url: '/orders',
      method: 'put',
      params: { dry: true },
      headers: { 'x-trace': 't1', 'x-client': undefined },
      json: { n: 1 },
      id: 'order-1',
    })
    const echo = fromObject.json<Echo>()
    expect(echo).toMatchObject({
      method: 'PUT',
      path: '/anything/v1/orders',
      query: { dry: 'true' },
      json: { n: 1 },
    })
    expect(echo.headers['content-type']).toBe('application/json')
    expect(echo.headers['x-trace']).toBe('t1')
    expect(echo.headers['x-client']).toBeUndefined()
    expect(fromObject.id).toBe('order-1')
    expect(fromObject).toMatchObject({ status: 200, attempts: 1, ok: true })
    expect(fromObject.ms).toBeGreaterThanOrEqual(0)
    expect(fromObject.url).toBe(`${mock.url}/anything/v1/orders?dry=true`)
  })

  test('get, head, post, put, patch and delete send their method; json and text read the body', async () => {
    await using api = createClient({ baseUrl: mock.url })
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const response = await api[method]('/anything', { params: { m: method } })
      expect(response.json<Echo>().method).toBe(method.toUpperCase())
    }
    const head = await api.head('/json')
    expect(head.status).toBe(200)
    expect(head.bytes().length).toBe(0)
    const json = await api.get('/json')
    expect(JSON.parse(json.text())).toEqual(json.json())
    expect(json.headers['content-type']).toContain('application/json')
  })
})

describe('many requests', () => {
  test('all resolves with a Result per spec in input order, whatever order they finish in', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const specs: RequestSpec[] = [
      '/delay/80',
      '/delay/40',
      '/status/404',
      '/delay/0',
      { url: '/items/7', id: 7 },
    ]
    const results = await api.all(specs)
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4])
    expect(results.map((r) => r.item)).toEqual(specs)
    expect(results.map((r) => (r.ok ? r.value.status : (r.error as { status?: number }).status))).toEqual([
      200, 200, 404, 200, 200,
    ])
    expect(results.map((r) => r.ok && r.value.json<{ delayed?: number }>().delayed)).toEqual([
      80,
      40,
      false,
      0,
      undefined,
    ])
  })

  test('stream yields every Result once as requests complete', async () => {
    await using api = createClient({ baseUrl: mock.url })
    const seen: number[] = []
    for await (const result of api.stream(['/delay/60', '/delay/0', '/delay/30'])) seen.push(result.index)
    expect(seen.sort()).toEqual([0, 1, 2])
  })

  test('stopSignal stops starting requests, including those waiting for the rate, while those in flight finish', async () => {
    // A fresh server, so its request count is this test's alone.
    await using server = await startMockServer({ seed: 2 })
    await using api = createClient({ baseUrl: server.url, concurrency: 2, rate: '2/10s' })
    const stop = new AbortController()
    const specs = ['/delay/100', '/delay/100', '/delay/0', '/delay/0', '/delay/0']
    const results = []
    for await (const result of api.stream(specs, { stopSignal: stop.signal })) {
      results.push(result)
      // The first two are in flight; the third waits for the rate (10 s) when this fires.
      if (results.length === 1) stop.abort(new Error('Ctrl-C'))
    }
    const byIndex = results.sort((a, b) => a.index - b.index)
    expect(byIndex.map((r) => r.ok)).toEqual([true, true, false, false, false])
    for (const r of byIndex.slice(2)) {
      expect(!r.ok && (r.error as { code?: string }).code).toBe('ABORTED')
      expect(!r.ok && r.error.message).toMatch(/Ctrl-C/)
    }
    expect(server.stats().requests).toBe(2)
  })

  test("a request's own signal keeps no listener once the request is answered", async () => {
    await using api = createClient({ baseUrl: mock.url, retry: false, concurrency: 1 })
    const controller = new AbortController()
    const answers = await Promise.all(
      ['/delay/0', '/delay/0', '/delay/0'].map((url) => api.get(url, { signal: controller.signal })),
    )
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  test('group fails fast: the first error aborts requests in flight, and the server sees them go', async () => {
    await using api = createClient({ baseUrl: mock.url, retry: false })
    const before = mock.stats().aborted
    const specs = [
      '/delay/5000',
      '/delay/5000',
      '/delay/5000',
      { url: '/delay/50', headers: { 'x-mock-fault': '500' } },
    ]
    const failure = await api.group(specs).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(AggregateError)
    const errors = (failure as AggregateError).errors
    expect(errors.map((e: { code: string }) => e.code)).toEqual(['HTTP'])
    expect(await eventually(() => mock.stats().aborted - before >= 3)).toBe(true)
  })
})

describe('connections', () => {
  test('HTTP/1.1 connections per origin follow the concurrency: no cold connection mid-run', async () => {
    const server = await tinyServer((_req, res) => res.end('{}'))
    let opened = 0
    server.server.on('connection', () => opened++)
    try {
      await using api = createClient({ baseUrl: server.url, concurrency: 4 })
      const results = await api.all(Array.from({ length: 200 }, (_, i) => `/items/${i}`))
      expect(results.every((r) => r.ok)).toBe(true)
      expect(opened).toBeLessThanOrEqual(4)
    } finally {
      await server.close()
    }
  })
})
