import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { describeMockServer, type MockServer, startMockServer } from '../../src/mock/index.js'
import { call } from './client.js'

describe('mock endpoints', () => {
  let server: MockServer
  beforeAll(async () => {
    server = await startMockServer({ batchMax: 3, seed: 1 })
  })
  afterAll(() => server.close())

  test('GET /json answers a small fixed JSON body', async () => {
    const first = await call(`${server.url}/json`)
    const second = await call(`${server.url}/json`)
    expect(first.status).toBe(200)
    expect(first.headers['content-type']).toMatch(/^application\/json/)
    expect(first.json).toEqual({ id: 1, name: 'volley', ok: true, tags: ['fast', 'polite'] })
    expect(second.text).toBe(first.text)
  })

  test('/anything echoes method, path, query, headers and JSON body', async () => {
    const reply = await call(`${server.url}/anything/deep/path?q=x&tag=a&tag=b`, {
      method: 'PATCH',
      headers: { 'x-trace': 'abc' },
      json: { hello: 'world' },
    })
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({
      method: 'PATCH',
      path: '/anything/deep/path',
      query: { q: 'x', tag: ['a', 'b'] },
      json: { hello: 'world' },
      data: '{"hello":"world"}',
    })
    expect(reply.json.headers['x-trace']).toBe('abc')
  })

  test('/anything answers every method and keeps a non-JSON body as text', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
      const reply = await call(`${server.url}/anything`, { method })
      expect(reply.json.method).toBe(method)
    }
    const { request } = await import('undici')
    const res = await request(`${server.url}/anything`, { method: 'POST', body: 'plain words' })
    const echoed = (await res.body.json()) as { json: unknown; data: string }
    expect(echoed).toMatchObject({ json: null, data: 'plain words' })
  })

  test('/status/:code answers with that status, and 400 for a code out of range', async () => {
    expect((await call(`${server.url}/status/418`)).status).toBe(418)
    expect((await call(`${server.url}/status/503`)).json).toEqual({ status: 503 })
    const empty = await call(`${server.url}/status/204`)
    expect(empty.status).toBe(204)
    expect(empty.text).toBe('')
    const bad = await call(`${server.url}/status/42`)
    expect(bad.status).toBe(400)
    expect(bad.json.error).toMatch(/status code/)
  })

  test('/delay/:ms answers { delayed } and counts as in flight while it waits', async () => {
    const pending = call(`${server.url}/delay/300`)
    await expect.poll(() => server.stats().inFlight).toBe(1)
    const reply = await pending
    expect(reply.json).toEqual({ delayed: 300 })
    expect(server.stats().inFlight).toBe(0)
  })

  test('/items/:id answers the same record for the same id and different ones for others', async () => {
    const a = await call(`${server.url}/items/42`)
    const again = await call(`${server.url}/items/42`)
    const b = await call(`${server.url}/items/43`)
    expect(a.json).toEqual(again.json)
    expect(a.json).toMatchObject({ id: '42', name: 'Item 42' })
    expect(b.json.id).toBe('43')
    expect(b.json.price === a.json.price && b.json.stock === a.json.stock).toBe(false)
  })

  test('POST /batch/geocode answers a location per address, keyed by address', async () => {
    const reply = await call(`${server.url}/batch/geocode`, {
      json: { addresses: ['221B Baker St', '10 Downing St'] },
    })
    expect(reply.status).toBe(200)
    const results = reply.json.results
    expect(Object.keys(results).sort()).toEqual(['10 Downing St', '221B Baker St'])
    expect(results['221B Baker St']).not.toEqual(results['10 Downing St'])
    const again = await call(`${server.url}/batch/geocode`, { json: { addresses: ['221B Baker St'] } })
    expect(again.json.results['221B Baker St']).toEqual(results['221B Baker St'])
    for (const { lat, lng } of Object.values(results) as { lat: number; lng: number }[]) {
      expect(Math.abs(lat)).toBeLessThanOrEqual(90)
      expect(Math.abs(lng)).toBeLessThanOrEqual(180)
    }
  })

  test('POST /batch/geocode refuses more than batchMax addresses and bad bodies with 400', async () => {
    const before = server.stats()
    const tooMany = await call(`${server.url}/batch/geocode`, { json: { addresses: ['a', 'b', 'c', 'd'] } })
    expect(tooMany.status).toBe(400)
    expect(tooMany.json.error).toMatch(/at most 3/)
    expect((await call(`${server.url}/batch/geocode`, { json: { addresses: 'a' } })).status).toBe(400)
    const full = await call(`${server.url}/batch/geocode`, { json: { addresses: ['a', 'b', 'c'] } })
    expect(full.status).toBe(200)
    const after = server.stats()
    expect(after.batchCalls - before.batchCalls).toBe(1)
    expect(after.largestBatch).toBe(3)
  })

  test('an unknown path answers 404 and a wrong method 405 with Allow', async () => {
    expect((await call(`${server.url}/nothing-here`)).status).toBe(404)
    const wrong = await call(`${server.url}/batch/geocode`)
    expect(wrong.status).toBe(405)
    expect(wrong.headers.allow).toBe('POST')
    expect(server.stats().byPath['(unmatched)']).toBeGreaterThanOrEqual(1)
  })

  test('/redirect-to answers the asked 3xx with a Location header', async () => {
    const reply = await call(
      `${server.url}/redirect-to?url=${encodeURIComponent('http://elsewhere.test/x')}&status=307`,
    )
    expect(reply.status).toBe(307)
    expect(reply.headers.location).toBe('http://elsewhere.test/x')
  })

  test('GET /__stats answers the same counts as stats() and is not counted itself', async () => {
    const before = server.stats()
    const reply = await call(`${server.url}/__stats`)
    expect(reply.json).toEqual(before)
    expect(server.stats().requests).toBe(before.requests)
  })

  test('stats count requests by route pattern and status, and Idempotency-Key repeats', async () => {
    server.resetStats()
    await call(`${server.url}/items/1`)
    await call(`${server.url}/items/2`, { headers: { 'idempotency-key': 'k1' } })
    await call(`${server.url}/anything`, { method: 'POST', json: {}, headers: { 'idempotency-key': 'k1' } })
    await call(`${server.url}/status/500`)
    const stats = server.stats()
    expect(stats.requests).toBe(4)
    expect(stats.byPath).toEqual({ '/items/:id': 2, '/anything': 1, '/status/:code': 1 })
    expect(stats.byStatus).toEqual({ 200: 3, 500: 1 })
    expect(stats.idempotencyKeys).toEqual({ k1: 2 })
  })
})

describe('mock server lifecycle', () => {
  test('DELETE /__stats zeroes the counters', async () => {
    await using server = await startMockServer()
    await call(`${server.url}/json`)
    const reset = await call(`${server.url}/__stats`, { method: 'DELETE' })
    expect(reset.json).toMatchObject({ requests: 0, byStatus: {}, byPath: {} })
    expect(server.stats().requests).toBe(0)
  })

  test('describeMockServer names the URL, the behaviour and every endpoint', async () => {
    await using server = await startMockServer({ rate: '5/2s', faults: { reset: 0.01 }, seed: 7, auth: 'x' })
    const text = describeMockServer(server)
    expect(text).toContain(server.url)
    expect(text).toContain('rate 5/2s')
    expect(text).toContain('reset 1%')
    expect(text).toContain('seed 7')
    expect(text).toContain('bearer token required')
    for (const path of [
      '/json',
      '/anything',
      '/status/:code',
      '/delay/:ms',
      '/items/:id',
      '/batch/geocode',
    ]) {
      expect(text).toContain(path)
    }
    expect(text).toContain('/jobs/:id')
    expect(text).toContain('/__stats')
  })

  test('listens on the asked port and refuses to start on a port in use', async () => {
    await using first = await startMockServer()
    await expect(startMockServer({ port: first.port })).rejects.toThrow(/EADDRINUSE/)
  })
})

describe('mock jobs', () => {
  test('a job stays pending while its jobDuration has not passed', async () => {
    await using server = await startMockServer({ jobDuration: '1h' })
    const submitted = await call(`${server.url}/jobs`, { json: { items: ['a', 'b'] } })
    expect(submitted.status).toBe(202)
    expect(submitted.json).toEqual({ id: expect.any(String), status: 'pending' })
    expect(submitted.headers.location).toBe(`/jobs/${submitted.json.id}`)
    const polled = await call(`${server.url}/jobs/${submitted.json.id}`)
    expect(polled.json).toEqual({ id: submitted.json.id, status: 'pending' })
    expect(server.stats().jobs).toBe(1)
  })

  test('a job is done with one result per item once its jobDuration has passed', async () => {
    await using server = await startMockServer({ jobDuration: 0 })
    const { json: job } = await call(`${server.url}/jobs`, { json: { items: ['a', 'b', 'a'] } })
    const done = await call(`${server.url}/jobs/${job.id}`)
    expect(done.json.status).toBe('done')
    const results = done.json.results as { item: string; value: number }[]
    expect(results.map((r) => r.item)).toEqual(['a', 'b', 'a'])
    expect(results[0]!.value).toBe(results[2]!.value)
    expect((await call(`${server.url}/jobs/job-999`)).status).toBe(404)
  })
})
