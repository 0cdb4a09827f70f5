/**
 * Latency-bound: 2,000 GET /delay/20 (the server answers after 20 ms) at concurrency 50, cold
 * start (no warm-up: connection setup included). The server's floor is measured first, in the
 * parent: 200 sequential requests on one keep-alive connection. The ideal is then 40 x floor
 * (2,000 / 50 = 40 rounds); each contender reports achieved / (40 x floor).
 *
 *   npm run build && node bench/http-latency.js [--quick] [--rounds N] [--only a,b]
 */

import { startBenchServer } from './http-server.js'
import { parseBenchArgs } from './lib/args.js'
import { runBench } from './lib/bench.js'

const CONCURRENCY = 50
const N = 2000
const DELAY = 20

/** Times `run()` (which resolves with the number of bodies read) against the floor. */
async function measure({ floorMs }, run) {
  const started = performance.now()
  const done = await run()
  const elapsedS = (performance.now() - started) / 1000
  if (done !== N) throw new Error(`expected ${N} responses, got ${done}`)
  return { elapsedS, vsFloor: elapsedS / (((N / CONCURRENCY) * floorMs) / 1000), floorMs }
}

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'volley api.all',
    kind: 'volley',
    run: async (params) => {
      const { createClient } = await import('../dist/index.js')
      const api = createClient({ baseUrl: params.url, concurrency: CONCURRENCY })
      const specs = Array.from({ length: N }, () => `/delay/${DELAY}`)
      const result = await measure(params, async () => (await api.all(specs)).filter((r) => r.ok).length)
      await api.close()
      return result
    },
  },
  {
    name: 'undici workers',
    kind: 'peer',
    run: async (params) => {
      const { Agent, request } = await import('undici')
      const dispatcher = new Agent()
      const url = `${params.url}/delay/${DELAY}`
      return measure(params, async () => {
        let next = 0
        let done = 0
        const loop = async () => {
          while (next < N) {
            next++
            const { body } = await request(url, { dispatcher })
            await body.bytes()
            done++
          }
        }
        await Promise.all(Array.from({ length: CONCURRENCY }, loop))
        return done
      })
    },
  },
  {
    name: 'undici+p-limit',
    kind: 'peer',
    run: async (params) => {
      const { Agent, request } = await import('undici')
      const { default: pLimit } = await import('p-limit')
      const dispatcher = new Agent()
      const url = `${params.url}/delay/${DELAY}`
      return measure(params, async () => {
        const limit = pLimit(CONCURRENCY)
        const ok = await Promise.all(
          Array.from({ length: N }, () =>
            limit(async () => {
              const { body } = await request(url, { dispatcher })
              await body.bytes()
              return 1
            }),
          ),
        )
        return ok.length
      })
    },
  },
]

/** The server's per-request floor: 200 sequential requests on one keep-alive connection. */
async function measureFloor(url) {
  const { Pool, request } = await import('undici')
  const dispatcher = new Pool(url, { connections: 1 })
  const target = `${url}/delay/${DELAY}`
  const { body } = await request(target, { dispatcher })
  await body.bytes()
  const started = performance.now()
  for (let i = 0; i < 200; i++) {
    const { body } = await request(target, { dispatcher })
    await body.bytes()
  }
  const floorMs = (performance.now() - started) / 200
  await dispatcher.close()
  return floorMs
}

const args = parseBenchArgs()
const server = args.child ? undefined : await startBenchServer()
const floorMs = server ? await measureFloor(server.url) : undefined
try {
  await runBench({
    name: 'http-latency',
    title: `Latency-bound: ${N} x GET /delay/${DELAY} at concurrency ${CONCURRENCY}, cold start`,
    script: import.meta.url,
    packages: ['undici', 'p-limit'],
    notes: [
      `- Server floor (200 sequential requests on one keep-alive connection, measured first): ${floorMs?.toFixed(2)} ms,`,
      `  so the best achievable is 40 x floor = ${(((floorMs ?? 0) * 40) / 1000).toFixed(3)} s. No warm-up: connection setup is included.`,
      `- volley: \`createClient({ concurrency: ${CONCURRENCY} })\` (defaults otherwise: retries on, adaptive on, no rate), \`api.all(specs)\`.`,
    ],
    rounds: { normal: 3, quick: 1 },
    scenarios: [
      { name: 'delay', title: `GET /delay/${DELAY}`, params: () => ({ url: server?.url, floorMs }) },
    ],
    contenders,
    columns: [
      { key: 'elapsedS', label: 'elapsed (s)', digits: 3 },
      { key: 'vsFloor', label: 'achieved / (40 x floor)', digits: 3 },
      { key: 'peakRssMb', label: 'peak RSS (MB)' },
      { key: 'cpuS', label: 'CPU (s)', digits: 2 },
    ],
    ratios: [{ key: 'elapsedS', label: 'elapsed', better: 'lower' }],
    targets: [
      { label: 'volley <= 1.03x the floor', contender: 'volley api.all', key: 'vsFloor', atMost: 1.03 },
    ],
  })
} finally {
  server?.stop()
}
