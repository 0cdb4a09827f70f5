/**
 * Politeness: 500 GET /items/:id at concurrency 16, told 50/s, against an API that enforces 50/s
 * exactly on arrival (sliding window; 429 + Retry-After beyond it; refused requests do not count)
 * and holds every new connection 100 ms, like a far API's TCP+TLS handshake. Judged where the API
 * counts: the arrivals the server saw. The server is volley's mock over https (the tests'
 * certificate), started inside each child so its arrival times share the client's clock.
 *
 * volley runs with its defaults (it retries 429s itself, honouring Retry-After). Each peer is
 * undici plus a limiter, and handles a 429 the way a careful user would: wait Retry-After seconds,
 * then send the request again through the same limiter, so all 500 complete.
 *
 *   npm run build && node bench/http-politeness.js [--quick] [--rounds N] [--only a,b]
 */

import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { runBench } from './lib/bench.js'
import { importOwnBuild, importVolley } from './lib/volley.js'

const N = 500
const CONCURRENCY = 16
const LIMIT = 50
const WINDOW_MS = 1000
const CONNECT_DELAY_MS = 100
const fixture = (name) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8')
const tls = { key: fixture('localhost-key.pem'), cert: fixture('localhost-cert.pem') }
const paths = Array.from({ length: N }, (_, i) => `/items/${i}`)

/**
 * Starts the far API, times `run(url)` (which resolves with the number of 200 responses its
 * caller got), and returns what the server saw. The mock is always this checkout's build, so a
 * `--baseline` run measures both builds against the same server.
 */
async function measure(run) {
  const { quotaUse, startMockServer } = await importOwnBuild('mock/index.js')
  const server = await startMockServer({
    tls,
    rate: `${LIMIT}/s`,
    connectDelay: CONNECT_DELAY_MS,
    recordArrivals: true,
  })
  try {
    const started = performance.now()
    const ok = await run(server.url)
    const elapsedS = (performance.now() - started) / 1000
    const stats = server.stats()
    const { admitted } = server.arrivals()
    const served = stats.byStatus['200'] ?? 0
    if (ok !== N || served !== N || admitted.length !== N) {
      throw new Error(
        `expected ${N} successful responses, got ${ok} (the server answered ${served} with 200)`,
      )
    }
    return {
      refusals: stats.rateLimited,
      quotaUsePct: 100 * quotaUse(admitted, LIMIT, WINDOW_MS, admitted[0] + WINDOW_MS),
      elapsedS,
      maxArrivals1s: stats.maxWindowArrivals,
      connections: stats.connections,
    }
  } finally {
    await server.close()
  }
}

/**
 * The peers' shared loop: every path through `schedule` (the peer's limiter), one undici Agent
 * (keep-alive, 16 connections). A 429 waits its Retry-After outside the limiter, then goes back
 * through `schedule`. Resolves with the number of 200 responses.
 * @param {(task: () => Promise<number>) => Promise<number>} schedule
 */
async function undiciThrough(url, schedule) {
  const { Agent, request } = await import('undici')
  const dispatcher = new Agent({ connections: CONCURRENCY, connect: { ca: tls.cert } })
  const get = async (path) => {
    const { statusCode, headers, body } = await request(`${url}${path}`, { dispatcher })
    await body.arrayBuffer()
    if (statusCode === 200) return 0
    if (statusCode !== 429) throw new Error(`GET ${path}: status ${statusCode}`)
    return Number(headers['retry-after'] ?? 1) * 1000
  }
  const one = async (path) => {
    for (;;) {
      const wait = await schedule(() => get(path))
      if (wait === 0) return 1
      await sleep(wait)
    }
  }
  try {
    const done = await Promise.all(paths.map(one))
    return done.length
  } finally {
    await dispatcher.close()
  }
}

const pQueue = (options) => async () => {
  const { default: PQueue } = await import('p-queue')
  return measure((url) => {
    const queue = new PQueue(options)
    return undiciThrough(url, (task) => queue.add(task))
  })
}

const bottleneck = (options) => async () => {
  const { default: Bottleneck } = await import('bottleneck')
  return measure((url) => {
    const limiter = new Bottleneck(options)
    return undiciThrough(url, (task) => limiter.schedule(task))
  })
}

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'volley all (defaults)',
    kind: 'volley',
    run: async () => {
      const { createClient } = await importVolley()
      return measure(async (baseUrl) => {
        const api = createClient({
          baseUrl,
          rate: `${LIMIT}/s`,
          concurrency: CONCURRENCY,
          tls: { ca: tls.cert },
        })
        try {
          const results = await api.all(paths)
          for (const r of results) if (!r.ok) throw r.error
          return results.filter((r) => r.value.status === 200).length
        } finally {
          await api.close()
        }
      })
    },
  },
  {
    name: 'undici+p-queue',
    kind: 'peer',
    run: pQueue({ concurrency: CONCURRENCY, intervalCap: LIMIT, interval: WINDOW_MS }),
  },
  {
    name: 'undici+p-queue strict',
    kind: 'peer',
    run: pQueue({ concurrency: CONCURRENCY, intervalCap: LIMIT, interval: WINDOW_MS, strict: true }),
  },
  {
    name: 'undici+bottleneck reservoir',
    kind: 'peer',
    run: bottleneck({
      reservoir: LIMIT,
      reservoirRefreshAmount: LIMIT,
      reservoirRefreshInterval: WINDOW_MS,
      maxConcurrent: CONCURRENCY,
    }),
  },
  {
    name: 'undici+bottleneck minTime',
    kind: 'peer',
    run: bottleneck({ minTime: WINDOW_MS / LIMIT, maxConcurrent: CONCURRENCY }),
  },
  {
    name: 'undici+p-limit+p-throttle',
    kind: 'peer',
    run: async () => {
      const { default: pLimit } = await import('p-limit')
      const { default: pThrottle } = await import('p-throttle')
      return measure((url) => {
        const limit = pLimit(CONCURRENCY)
        const throttled = pThrottle({ limit: LIMIT, interval: WINDOW_MS })((task) => task())
        return undiciThrough(url, (task) => limit(() => throttled(task)))
      })
    },
  },
]

await runBench({
  name: 'http-politeness',
  title: `Politeness: ${N} GETs at concurrency ${CONCURRENCY}, told ${LIMIT}/s, against an API that enforces ${LIMIT}/s on arrival`,
  script: import.meta.url,
  packages: ['undici', 'p-queue', 'bottleneck', 'p-throttle', 'p-limit'],
  notes: [
    `- Server: volley's mock (\`volley/mock\`) over https with the tests' certificate, \`rate: '${LIMIT}/s'\` (an exact sliding window on arrival: 429 + Retry-After beyond it; a refused request does not count) and \`connectDelay: ${CONNECT_DELAY_MS}\` (every new connection held ${CONNECT_DELAY_MS} ms, so each client's TLS handshake waits, like a far API's). Started in each child, so its arrival times share the client's clock.`,
    `- volley: \`createClient({ baseUrl, rate: '${LIMIT}/s', concurrency: ${CONCURRENCY}, tls: { ca } })\` then \`api.all(paths)\`; everything else default (it retries 429s itself, honouring Retry-After).`,
    `- Peers: undici \`request\` with one \`Agent({ connections: ${CONCURRENCY} })\` (keep-alive) per run, through the limiter named; p-throttle \`{ limit: ${LIMIT}, interval: ${WINDOW_MS} }\` inside p-limit(${CONCURRENCY}). A 429 is handled as a careful user would: wait Retry-After seconds (outside the limiter), then send the request again through the same limiter, so all ${N} complete.`,
    '- 429s: responses 429 the server sent. Quota used: accepted arrivals from the first one after the first window, in whole quotas: k x 1 s over the time from that arrival to the one k x 50 later (100% = every moment of the quota used; see `quotaUse` in volley/mock). Max arrivals / 1 s: the most requests of any outcome that arrived in one sliding second. Total time: from the first request to the last response, handshakes and 429 waits included.',
    `- Every run checks ${N} successful responses (client and server) and fails otherwise.`,
  ],
  rounds: { normal: 3, quick: 1 },
  scenarios: [
    {
      name: 'politeness',
      title: `${N} GET, ${LIMIT}/s on arrival, ${CONNECT_DELAY_MS} ms connect delay`,
      params: () => ({}),
    },
  ],
  contenders,
  columns: [
    { key: 'refusals', label: '429s' },
    { key: 'quotaUsePct', label: 'quota used (%)', digits: 1 },
    { key: 'elapsedS', label: 'total time (s)', digits: 2 },
    { key: 'maxArrivals1s', label: 'max arrivals / 1 s' },
    { key: 'connections', label: 'connections' },
  ],
  ratios: [
    { key: 'refusals', label: '429s', better: 'lower' },
    { key: 'elapsedS', label: 'total time', better: 'lower' },
  ],
  targets: [
    { label: 'volley draws no 429', contender: 'volley all (defaults)', key: 'refusals', atMost: 0 },
    {
      label: 'volley uses >= 95% of the quota',
      contender: 'volley all (defaults)',
      key: 'quotaUsePct',
      atLeast: 95,
    },
  ],
})
