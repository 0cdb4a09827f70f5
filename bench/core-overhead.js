/**
 * Scheduling overhead without network: N no-op tasks `async () => 1` at concurrency 64, each
 * contender in a fresh process. Measures what the scheduler itself costs per task (time and
 * memory); the sum of the results is checked so no work can be skipped.
 * Method as in /work/shared/BENCH-ANCHORS.md section 3.
 */
import { runBench } from './lib/bench.js'
import { allAtOnce, workerLoops } from './lib/workloads.js'
import { importVolley } from './lib/volley.js'

const CONCURRENCY = 64
const noop = async () => 1
const volley = () => importVolley()

/**
 * Times `runAll` (which must return the sum of N results of `noop`) and turns it into figures.
 * @param {number} n @param {() => Promise<number>} runAll
 */
async function throughput(n, runAll) {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const sum = await runAll()
  const elapsedS = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  if (sum !== n) throw new Error(`expected the results to sum to ${n}, got ${sum}`)
  // CPU per task (all threads, GC included) moves less than elapsed time on a busy machine.
  return { n, tasksPerSec: n / elapsedS, elapsedS, cpuUsPerTask: (used.user + used.system) / n }
}

const sumOk = (results) => results.reduce((a, r) => a + (r.ok ? r.value : 0), 0)
const indices = (n) => Array.from({ length: n }, (_, i) => i)

/**
 * A limiter contender: `load` imports the library (before timing) and returns a factory that
 * creates the limiter and its `schedule(task)`; all N calls are then handed over at once.
 * @param {string} name @param {import('./lib/bench.js').Kind} kind
 * @param {() => Promise<() => (task: () => Promise<number>) => Promise<number>>} load
 */
const limiterContender = (name, kind, load) => ({
  name,
  kind,
  run: async ({ n }) => {
    const create = await load()
    return throughput(n, () => allAtOnce(n, create(), noop))
  },
})

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'promise-all-chunks64',
    kind: 'baseline',
    run: ({ n }) =>
      throughput(n, async () => {
        let sum = 0
        for (let i = 0; i < n; i += CONCURRENCY) {
          const chunk = await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n - i) }, noop))
          for (const value of chunk) sum += value
        }
        return sum
      }),
  },
  {
    name: 'worker-loops64',
    kind: 'baseline',
    run: ({ n }) => throughput(n, () => workerLoops(n, CONCURRENCY, noop)),
  },
  limiterContender('p-limit', 'peer', async () => {
    const { default: pLimit } = await import('p-limit')
    return () => pLimit(CONCURRENCY)
  }),
  limiterContender('p-queue', 'peer', async () => {
    const { default: PQueue } = await import('p-queue')
    return () => {
      const queue = new PQueue({ concurrency: CONCURRENCY })
      return (task) => queue.add(task)
    }
  }),
  {
    ...limiterContender('bottleneck', 'peer', async () => {
      const { default: Bottleneck } = await import('bottleneck')
      return () => {
        const limiter = new Bottleneck({ maxConcurrent: CONCURRENCY })
        return (task) => limiter.schedule(task)
      }
    }),
    // ~400 tasks/s whatever N (each start goes through its own timers), so a smaller N measures the
    // same rate in seconds rather than a minute per round; --full uses the anchors' 20,000.
    params: (base) => ({ n: base.bottleneckN }),
  },
  {
    name: 'volley all',
    kind: 'volley',
    run: async ({ n }) => {
      const { all } = await volley()
      const items = indices(n)
      return throughput(n, async () => sumOk(await all(items, noop, { concurrency: CONCURRENCY })))
    },
  },
  {
    name: 'volley stream',
    kind: 'volley',
    run: async ({ n }) => {
      const { stream } = await volley()
      const items = indices(n)
      return throughput(n, async () => {
        let sum = 0
        for await (const result of stream(items, noop, { concurrency: CONCURRENCY })) {
          if (result.ok) sum += result.value
        }
        return sum
      })
    },
  },
  limiterContender('volley limiter.run', 'volley', async () => {
    const { createLimiter } = await volley()
    return () => {
      const limiter = createLimiter({ concurrency: CONCURRENCY })
      return (task) => limiter.run(task)
    }
  }),
]

const full = process.argv.includes('--full')

await runBench({
  name: 'core-overhead',
  title: `Scheduling overhead: no-op tasks \`async () => 1\` at concurrency ${CONCURRENCY}`,
  script: import.meta.url,
  packages: ['p-limit', 'p-queue', 'bottleneck'],
  notes: [
    '- One fresh process per measurement; elapsed = handing over the tasks until every result is in',
    '  (results summed and checked). Peak RSS = maxRSS of the whole child process (includes Node itself).',
    '- Baselines use no library: `promise-all-chunks64` awaits Promise.all over chunks of 64,',
    '  `worker-loops64` runs 64 async loops. p-limit, p-queue, bottleneck and `volley limiter.run` get all',
    '  N calls at once and are awaited with Promise.all; `volley all` / `stream` get an array of N items.',
  ],
  rounds: { normal: 3, quick: 1 },
  scenarios: [
    {
      name: 'noop',
      title: 'No-op tasks',
      params: ({ quick }) => ({
        n: quick ? 100_000 : 1_000_000,
        bottleneckN: full ? 20_000 : quick ? 500 : 2_000,
      }),
    },
  ],
  contenders,
  columns: [
    { key: 'n', label: 'N tasks' },
    { key: 'tasksPerSec', label: 'tasks/s' },
    { key: 'elapsedS', label: 'elapsed (s)', digits: 3 },
    { key: 'peakRssMb', label: 'peak RSS (MB)' },
    { key: 'cpuUsPerTask', label: 'CPU µs/task', digits: 2 },
  ],
  ratios: [
    { key: 'tasksPerSec', label: 'tasks/s', better: 'higher' },
    { key: 'cpuUsPerTask', label: 'CPU/task', better: 'lower' },
    { key: 'peakRssMb', label: 'peak RSS', better: 'lower' },
  ],
  targets: [
    { label: 'volley all >= 2M tasks/s', contender: 'volley all', key: 'tasksPerSec', atLeast: 2_000_000 },
    {
      label: 'volley stream >= 2M tasks/s',
      contender: 'volley stream',
      key: 'tasksPerSec',
      atLeast: 2_000_000,
    },
    {
      label: 'volley all peak RSS < 250 MB',
      contender: 'volley all',
      key: 'peakRssMb',
      stat: 'max',
      atMost: 250,
    },
    {
      label: 'volley stream peak RSS < 250 MB',
      contender: 'volley stream',
      key: 'peakRssMb',
      stat: 'max',
      atMost: 250,
    },
    {
      label: 'volley limiter.run at least as fast as p-limit',
      contender: 'volley limiter.run',
      key: 'tasksPerSec',
      atLeast: { contender: 'p-limit' },
    },
  ],
})
