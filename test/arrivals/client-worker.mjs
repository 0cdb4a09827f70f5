// One process of the arrivals tests' shared-quota cases: volley's HTTP client with the Redis store,
// told the API's limit (or nothing, to learn it), fetching its share of the job: GETs, or the
// chat completions it is given (`specs`), each costing its tokens as the mock charges them. The IPC is that of
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
  smooth: config.smooth,
  tls: config.ca === undefined ? undefined : { ca: config.ca },
  // What the OpenAI-style mock charges up front: max_tokens plus a quarter of the prompt's characters.
  cost: config.specs
    ? (spec) => ({ tokens: spec.json.max_tokens + Math.ceil(spec.json.messages[0].content.length / 4) })
    : undefined,
})

// When this process read its first answer (from then on it knows the limits), and when each of
// its refused attempts went out: wall-clock ms, which every process on the machine shares.
let firstAnswerAt
const refusedSentAt = []
api.on('response', ({ status, ms }) => {
  if (status === 429) refusedSentAt.push(Date.now() - ms)
  firstAnswerAt ??= Date.now()
})

process.on('message', async (message) => {
  if (message.type !== 'go') return
  const specs = config.specs ?? Array.from({ length: config.gets }, (_, i) => `/items/${config.name}-${i}`)
  const results = await api.all(specs)
  const counts = {
    ok: results.filter((r) => r.ok).length,
    firstAnswerAt,
    refusedSentAt,
    statuses: {},
    errors: {},
  }
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
