// One process of the arrivals test's shared-quota case: volley's HTTP client with the Redis store,
// told the API's limit and nothing else, fetching its share of the job. The IPC is that of
// test/redis/workers.ts: {type:'ready', id} once Redis answers, the GETs on {type:'go'}, then
// {type:'done', counts, roundTrips}. Its connections start cold: the handshake is the point.
import { createClient } from '../../dist/index.js'
import { redisStore } from '../../dist/redis/index.js'

const config = JSON.parse(process.argv[2])
const store = redisStore({ url: config.redisUrl, prefix: config.prefix })
const api = createClient({
  baseUrl: config.url,
  store,
  key: config.key,
  rate: config.rate,
  concurrency: config.concurrency,
  tls: { ca: config.ca },
})

process.on('message', async (message) => {
  if (message.type !== 'go') return
  const paths = Array.from({ length: config.gets }, (_, i) => `/items/${config.name}-${i}`)
  const results = await api.all(paths)
  const counts = { ok: results.filter((r) => r.ok).length, statuses: {}, errors: {} }
  for (const r of results) {
    if (!r.ok)
      counts.errors[r.error.code ?? r.error.name] = (counts.errors[r.error.code ?? r.error.name] ?? 0) + 1
  }
  await api.close()
  await store.close()
  process.send({ type: 'done', counts, roundTrips: store.roundTrips }, () => process.exit(0))
})

// Redis connected and its scripts loaded before the test says go, so the processes start together.
await store.peek(config.key, { concurrency: Infinity, rates: [], rateMargin: 0, smooth: false }, 1, 0)
process.send({ type: 'ready', id: store.id })
