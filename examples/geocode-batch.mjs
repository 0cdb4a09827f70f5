/**
 * Geocoding 1,000 addresses one at a time, while volley sends them to a batch API 100 at a time;
 * then the same addresses through an async job API ("submit, get an id, poll until done").
 * Everything runs against volley's embedded mock API on 127.0.0.1, so no network is needed.
 *
 *   npm run build && node examples/geocode-batch.mjs
 */
import { batcher, createClient, poll } from '../dist/index.js'
import { startMockServer } from '../dist/mock/index.js'

const mock = await startMockServer({ batchMax: 100, jobDuration: '300ms' })
const api = createClient({ baseUrl: mock.url })
const addresses = Array.from({ length: 1000 }, (_, i) => `${i + 1} Baker St, London`)

// 1. A batch endpoint: POST /batch/geocode { addresses } -> { results: { [address]: { lat, lng } } }.
const geocode = batcher({
  batch: async (batch, { signal }) => {
    const response = await api.post('/batch/geocode', { json: { addresses: batch }, signal })
    return response.json().results // an object keyed by address: each caller gets its own
  },
  maxBatchSize: 100, // the API's limit
  maxWait: '10ms', // how long a lone address waits for company
  concurrency: 2, // batch calls in flight at once
})

// Callers ask for one address each, as if there were no batching.
const locations = await Promise.all(addresses.map((address) => geocode(address)))
console.log(`${addresses[0]} ->`, locations[0])
console.log(
  'batch API:',
  JSON.stringify(geocode.stats()),
  `server saw ${mock.stats().batchCalls} batch calls`,
)
await geocode.close()

// 2. An async job API: POST /jobs { items } -> { id, status: 'pending' }; GET /jobs/:id until 'done'.
const enrich = batcher({
  batch: async (items, { signal }) => {
    const job = (await api.post('/jobs', { json: { items }, signal })).json()
    const done = await poll(({ signal }) => api.get(`/jobs/${job.id}`, { signal }).then((r) => r.json()), {
      until: (job) => job.status === 'done',
      interval: '50ms', // then 100 ms, 200 ms, ... (backoff 2)
      maxInterval: '1s',
      timeout: '30s', // a PollTimeoutError (code 'POLL_TIMEOUT') after that
      signal,
    })
    return done.results.map((result) => result.value) // in the order of the items
  },
  maxBatchSize: 100,
  maxWait: '10ms',
  concurrency: 4,
})

const values = await Promise.all(addresses.map((address) => enrich(address)))
console.log(`${addresses[0]} -> job value`, values[0])
console.log('job API:', JSON.stringify(enrich.stats()), `server saw ${mock.stats().jobs} jobs`)
await enrich.close()

await api.close()
await mock.close()
