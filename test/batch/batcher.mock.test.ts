import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batcher } from '../../src/batch/batcher.js'
import { poll } from '../../src/batch/poll.js'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { geocodeAddress } from '../../src/mock/work.js'

type Location = { lat: number; lng: number }

/** POSTs JSON to the mock and returns the parsed body; a non-2xx status throws with the body. */
async function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<any> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  })
  const json = await res.body.json()
  if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(json)}`)
  return json
}

describe('batcher against the mock batch API', () => {
  let server: MockServer
  beforeAll(async () => {
    server = await startMockServer({ host: '127.0.0.1', port: 0, batchMax: 100, jobDuration: 30 })
  })
  afterAll(() => server.close())

  it('turns 10,000 concurrent loads into exactly 100 calls, each caller getting its own location', async () => {
    server.resetStats()
    const geocode = batcher<string, Location>({
      batch: async (addresses, { signal }) =>
        (await postJson(`${server.url}/batch/geocode`, { addresses }, signal)).results,
      maxBatchSize: 100,
      concurrency: 8,
    })
    const addresses = Array.from({ length: 10_000 }, (_, i) => `${i} Main St`)
    const locations = await Promise.all(addresses.map((address) => geocode(address)))
    expect(server.stats()).toMatchObject({ batchCalls: 100, largestBatch: 100 })
    expect(locations).toEqual(addresses.map(geocodeAddress))
    expect(geocode.stats()).toMatchObject({ loads: 10_000, batches: 100, keys: 10_000, largestBatch: 100 })
    await geocode.close()
  })

  it('polls a submitted job until it is done', async () => {
    const submitted = await postJson(`${server.url}/jobs`, { items: ['a', 'b'] })
    expect(submitted.status).toBe('pending')
    const job = await poll(
      async ({ signal }) => {
        const res = await request(`${server.url}/jobs/${submitted.id}`, { signal })
        return (await res.body.json()) as { status: string; results?: { item: string }[] }
      },
      { until: (job) => job.status === 'done', interval: 5, backoff: 1.5, timeout: '10s' },
    )
    expect(job.results?.map((r) => r.item)).toEqual(['a', 'b'])
  })
})
