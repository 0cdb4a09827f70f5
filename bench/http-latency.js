/**
 * Latency-bound: 2,000 GET /delay/20 (the server answers after 20 ms) at concurrency 50, cold
 * start (no warm-up: connection setup included). The server's floor is measured first, in the
 * parent: 200 sequential requests on one keep-alive connection. The ideal is then 40 x floor
 * (2,000 / 50 = 40 rounds); each contender reports achieved / (40 x floor).
 *
 * Where the time goes: every request's latency (handed to undici until its body is read, queue
 * wait excluded), the first 50 started (cold: connection setup, JIT) apart from the rest; and from
 * the server (bench/http-server.js /__stats) the connections used and how late it answered.
 *
 *   npm run build && node bench/http-latency.js [--quick] [--rounds N] [--only a,b]
 */

import { startBenchServer } from './http-server.js'
import { parseBenchArgs } from './lib/args.js'
import { runBench } from './lib/bench.js'
import { percentile } from './lib/stats.js'
import { workerLoops } from './lib/workloads.js'
import { importVolley } from './lib/volley.js'

const CONCURRENCY = 50
const N = 2000
const DELAY = 20

/** Per-request latencies: `record(start, ms)` for each request; the first CONCURRENCY started are cold. */
class Latencies {
  #samples = []

  record(start, ms) {
    this.#samples.push({ start, ms })
  }

  figures() {
    const byStart = this.#samples.sort((a, b) => a.start - b.start)
    const cold = byStart.slice(0, CONCURRENCY).map((s) => s.ms)
    const steady = byStart
      .slice(CONCURRENCY)
      .map((s) => s.ms)
      .sort((a, b) => a - b)
    return {
      coldMeanMs: mean(cold),
      coldMaxMs: Math.max(...cold),
      meanMs: mean(steady),
      p50Ms: percentile(steady, 0.5),
      p99Ms: percentile(steady, 0.99),
    }
  }
}

const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length

/** Times `run(latencies)` (which resolves with the number of bodies read) against the floor. */
async function measure({ floorMs }, run) {
  const latencies = new Latencies()
  const started = performance.now()
  const done = await run(latencies)
  const elapsedS = (performance.now() - started) / 1000
  if (done !== N) throw new Error(`expected ${N} responses, got ${done}`)
  const vsFloor = elapsedS / (((N / CONCURRENCY) * floorMs) / 1000)
  return { elapsedS, vsFloor, floorMs, ...latencies.figures() }
}

/** One undici request, its body read, timed from the call to the end of the body; resolves with 1. */
async function timedRequest(request, url, dispatcher, latencies) {
  const start = performance.now()
  const { body } = await request(url, { dispatcher })
  await body.bytes()
  latencies.record(start, performance.now() - start)
  return 1
}

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'volley api.all',
    kind: 'volley',
    run: async (params) => {
      const { createClient } = await importVolley()
      const api = createClient({ baseUrl: params.url, concurrency: CONCURRENCY })
      const specs = Array.from({ length: N }, () => `/delay/${DELAY}`)
      const result = await measure(params, async (latencies) => {
        // `ms` of the response event: this attempt, from handing it to undici to its body read.
        api.on('response', ({ ms }) => latencies.record(performance.now() - ms, ms))
        return (await api.all(specs)).filter((r) => r.ok).length
      })
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
      return measure(params, (latencies) =>
        workerLoops(N, CONCURRENCY, () => timedRequest(request, url, dispatcher, latencies)),
      )
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
      return measure(params, async (latencies) => {
        const limit = pLimit(CONCURRENCY)
        const ok = await Promise.all(
          Array.from({ length: N }, () => limit(() => timedRequest(request, url, dispatcher, latencies))),
        )
        return ok.reduce((sum, one) => sum + one, 0)
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
      `- Latency per request: from handing it to undici to its body read (queue wait excluded): volley's`,
      `  \`response\` event \`ms\`, the peers' time around \`request()\` + \`body.bytes()\`. "cold" = the first`,
      `  ${CONCURRENCY} requests started (connection setup, JIT warm-up); mean / p50 / p99 over the other ${N - CONCURRENCY}.`,
      '- From the server (its /__stats): connections that carried a request; "late" = how much later than',
      `  the ${DELAY} ms asked it answered, from its 'request' event to \`res.end\` (timer lateness + its own queueing).`,
    ],
    probe: async () => {
      await server.stats()
      return () => server.stats()
    },
    rounds: { normal: 3, quick: 1 },
    scenarios: [
      { name: 'delay', title: `GET /delay/${DELAY}`, params: () => ({ url: server?.url, floorMs }) },
    ],
    contenders,
    columns: [
      { key: 'elapsedS', label: 'elapsed (s)', digits: 3 },
      { key: 'vsFloor', label: 'achieved / (40 x floor)', digits: 3 },
      { key: 'coldMeanMs', label: 'cold mean (ms)', digits: 1 },
      { key: 'meanMs', label: 'mean (ms)', digits: 1 },
      { key: 'p50Ms', label: 'p50 (ms)', digits: 1 },
      { key: 'p99Ms', label: 'p99 (ms)', digits: 1 },
      { key: 'serverConnections', label: 'connections' },
      { key: 'serverLateP50Ms', label: 'server late p50 (ms)', digits: 2 },
      { key: 'serverLateP99Ms', label: 'server late p99 (ms)', digits: 2 },
      { key: 'cpuS', label: 'CPU (s)', digits: 2 },
      { key: 'serverCpuS', label: 'server CPU (s)', digits: 2 },
      { key: 'peakRssMb', label: 'peak RSS (MB)' },
    ],
    ratios: [{ key: 'elapsedS', label: 'elapsed', better: 'lower' }],
    targets: [
      { label: 'volley <= 1.03x the floor', contender: 'volley api.all', key: 'vsFloor', atMost: 1.03 },
    ],
  })
} finally {
  server?.stop()
}
