/**
 * HTTP throughput: 20,000 GET /json at concurrency 64 against a node:http server in its own
 * process (nginx is not installed here), after a 1,000-request warm-up in the same process.
 * volley runs `api.all` with retries on and a rate configured that never binds; the peers run as
 * the anchors describe (BENCH-ANCHORS.md section 1). Every body is read in full and counted.
 *
 *   npm run build && node bench/http-throughput.js [--quick] [--rounds N] [--only a,b]
 */

import { startBenchServer } from './http-server.js'
import { parseBenchArgs } from './lib/args.js'
import { runBench } from './lib/bench.js'
import { workerLoops } from './lib/workloads.js'
import { importVolley } from './lib/volley.js'

const CONCURRENCY = 64

/** Runs `batch(count)` for the warm-up, then times it for `n`; `batch` resolves with bytes read. */
async function measure({ n, warmup }, batch) {
  await batch(warmup)
  const cpu = process.cpuUsage()
  const started = performance.now()
  const bytes = await batch(n)
  const elapsedS = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  if (bytes !== n * 59) throw new Error(`expected ${n * 59} body bytes, got ${bytes}`)
  return { n, requestsPerSec: n / elapsedS, elapsedS, cpuUsPerRequest: (used.user + used.system) / n }
}

async function undiciAgent() {
  const { Agent } = await import('undici')
  return new Agent({ connections: CONCURRENCY })
}

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'volley api.all',
    kind: 'volley',
    run: async (params) => {
      const { createClient } = await importVolley()
      const api = createClient({
        baseUrl: params.url,
        concurrency: CONCURRENCY,
        connections: CONCURRENCY,
        rate: '1000000/min',
        retry: { attempts: 3 },
      })
      const result = await measure(params, async (count) => {
        const results = await api.all(Array.from({ length: count }, () => '/json'))
        let bytes = 0
        for (const r of results) {
          if (!r.ok) throw r.error
          bytes += r.value.bytes().length
        }
        return bytes
      })
      await api.close()
      return result
    },
  },
  {
    name: 'undici.request workers',
    kind: 'peer',
    run: async (params) => {
      const { request } = await import('undici')
      const dispatcher = await undiciAgent()
      const url = `${params.url}/json`
      return measure(params, (count) =>
        workerLoops(count, CONCURRENCY, async () => {
          const { body } = await request(url, { dispatcher })
          return (await body.bytes()).length
        }),
      )
    },
  },
  {
    name: 'undici+p-limit',
    kind: 'peer',
    run: async (params) => {
      const { request } = await import('undici')
      const { default: pLimit } = await import('p-limit')
      const dispatcher = await undiciAgent()
      const url = `${params.url}/json`
      return measure(params, async (count) => {
        const limit = pLimit(CONCURRENCY)
        const sizes = await Promise.all(
          Array.from({ length: count }, () =>
            limit(async () => {
              const { body } = await request(url, { dispatcher })
              return (await body.bytes()).length
            }),
          ),
        )
        return sizes.reduce((a, b) => a + b, 0)
      })
    },
  },
  {
    name: 'global fetch workers',
    kind: 'peer',
    run: async (params) => {
      const url = `${params.url}/json`
      return measure(params, (count) =>
        workerLoops(count, CONCURRENCY, async () => (await (await fetch(url)).arrayBuffer()).byteLength),
      )
    },
  },
  {
    name: 'got workers',
    kind: 'peer',
    run: async (params) => {
      const { default: got } = await import('got')
      const { Agent } = await import('node:http')
      const agent = { http: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) }
      const url = `${params.url}/json`
      return measure(params, (count) =>
        workerLoops(
          count,
          CONCURRENCY,
          async () => (await got(url, { agent, responseType: 'buffer' })).body.length,
        ),
      )
    },
  },
  {
    name: 'axios workers',
    kind: 'peer',
    run: async (params) => {
      const { default: axios } = await import('axios')
      const { Agent } = await import('node:http')
      const httpAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
      const url = `${params.url}/json`
      return measure(params, (count) =>
        workerLoops(
          count,
          CONCURRENCY,
          async () => (await axios.get(url, { httpAgent, responseType: 'arraybuffer' })).data.length,
        ),
      )
    },
  },
]

const args = parseBenchArgs()
const server = args.child ? undefined : await startBenchServer()
try {
  await runBench({
    name: 'http-throughput',
    title: `HTTP throughput: GET /json at concurrency ${CONCURRENCY}, node:http server in its own process`,
    script: import.meta.url,
    packages: ['undici', 'p-limit', 'got', 'axios'],
    notes: [
      '- Target: a minimal node:http server in a child process (nginx is not installed), keep-alive.',
      '- 1,000-request warm-up in the same process, then the timed run; every body read and counted.',
      '- CPU per request = process.cpuUsage() of the client over the timed run / N. Peak RSS = maxRSS of the client process.',
      "- volley: `createClient({ concurrency: 64, connections: 64, rate: '1000000/min', retry: { attempts: 3 } })` then `api.all(specs)`.",
    ],
    rounds: { normal: 3, quick: 1 },
    scenarios: [
      {
        name: 'json',
        title: 'GET /json',
        params: ({ quick }) => ({ url: server?.url, n: quick ? 5_000 : 20_000, warmup: 1_000 }),
      },
    ],
    contenders,
    columns: [
      { key: 'requestsPerSec', label: 'requests/s' },
      { key: 'cpuUsPerRequest', label: 'CPU µs/request', digits: 1 },
      { key: 'peakRssMb', label: 'peak RSS (MB)' },
      { key: 'elapsedS', label: 'elapsed (s)', digits: 3 },
    ],
    ratios: [
      { key: 'requestsPerSec', label: 'requests/s', better: 'higher' },
      { key: 'cpuUsPerRequest', label: 'CPU/request', better: 'lower' },
    ],
    targets: [
      {
        label: 'volley >= 1.0x undici+p-limit',
        contender: 'volley api.all',
        key: 'requestsPerSec',
        atLeast: { contender: 'undici+p-limit' },
      },
    ],
  })
} finally {
  server?.stop()
}
