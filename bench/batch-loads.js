/**
 * Batching overhead: N × load(key) in ticks of 1,000 keys (1,000 calls, then `await Promise.all`)
 * with a batch function that resolves at once, so only the batcher itself is measured. Method as
 * in /work/shared/BENCH-ANCHORS.md section 5. Every contender sends batches of 1,000 keys; the
 * results are summed and checked, and the batch calls counted.
 *
 * Two key orders: "sequential" (0, 1, 2, ...: the anchors' workload) and "scattered" (the same
 * keys in a scrambled order, i * 7919 mod N), since volley's dedupe skips hashing while keys come
 * in increasing order and hashes them otherwise.
 */
import { runBench } from './lib/bench.js'
import { importVolley } from './lib/volley.js'

const TICK = 1000

/**
 * Loads every key through `load`, TICK at a time, and checks the sum of the results.
 * @param {{ n: number, order: 'sequential' | 'scattered' }} params
 * @param {(key: number) => Promise<number>} load
 * @param {() => { batches: number, maxBatch: number }} counts
 */
async function measure({ n, order }, load, counts) {
  const keyAt = order === 'sequential' ? (i) => i : (i) => (i * 7919) % n
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  let sum = 0
  for (let i = 0; i < n; i += TICK) {
    const pending = new Array(TICK)
    for (let j = 0; j < TICK; j++) pending[j] = load(keyAt(i + j))
    const values = await Promise.all(pending)
    for (let j = 0; j < TICK; j++) sum += values[j]
  }
  const elapsedS = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const expected = (n * (n - 1)) / 2
  if (sum !== expected) throw new Error(`expected the results to sum to ${expected}, got ${sum}`)
  return { n, loadsPerSec: n / elapsedS, elapsedS, cpuUsPerLoad: (cpu.user + cpu.system) / n, ...counts() }
}

/** A batch function answering each key with itself, at once, counting its calls. */
function countingBatch() {
  const stats = { batches: 0, maxBatch: 0 }
  const batch = (keys) => {
    stats.batches++
    if (keys.length > stats.maxBatch) stats.maxBatch = keys.length
    return Promise.resolve(keys)
  }
  return { batch, counts: () => ({ ...stats }) }
}

const volley = () => importVolley()

/** volley's batcher with `options` on top of maxBatchSize 1,000 (maxWait 0: the end of the tick). */
const volleyContender = (name, options) => ({
  name,
  kind: 'volley',
  run: async (params) => {
    const { batcher } = await volley()
    const { batch, counts } = countingBatch()
    const load = batcher({ batch, maxBatchSize: TICK, ...options })
    return measure(params, load, counts)
  },
})

const dataloader = (name, options) => ({
  name,
  kind: 'peer',
  run: async (params) => {
    const { default: DataLoader } = await import('dataloader')
    const { batch, counts } = countingBatch()
    const loader = new DataLoader(batch, options)
    return measure(params, (key) => loader.load(key), counts)
  },
})

await runBench({
  name: 'batch-loads',
  title: 'Batching: N × load(key) in ticks of 1,000 keys, batch function resolving at once',
  script: import.meta.url,
  packages: ['dataloader', '@yornaath/batshit'],
  notes: [
    '- Each tick: 1,000 `load(key)` calls, then `await Promise.all`; the batch function returns its keys.',
    '- volley: `batcher({ batch, maxBatchSize: 1000 })`, dedupe on unless said (maxWait 0 = end of tick).',
    '- "scattered" loads the same keys in the order i × 7919 mod N, so they are never increasing for long.',
  ],
  rounds: { normal: 5, quick: 1 },
  scenarios: [
    {
      name: 'sequential',
      title: "Keys in increasing order (the anchors' workload)",
      params: ({ quick }) => ({ n: quick ? 100_000 : 1_000_000, order: 'sequential' }),
    },
    {
      name: 'scattered',
      title: 'Keys in a scrambled order',
      params: ({ quick }) => ({ n: quick ? 100_000 : 1_000_000, order: 'scattered' }),
    },
  ],
  contenders: [
    {
      name: 'baseline-promise-per-key',
      kind: 'baseline',
      run: (params) =>
        measure(
          params,
          (key) => Promise.resolve(key),
          () => ({ batches: 0, maxBatch: 0 }),
        ),
    },
    volleyContender('volley batcher', {}),
    volleyContender('volley batcher{dedupe:false}', { dedupe: false }),
    volleyContender('volley batcher{cache:true}', { cache: true }),
    dataloader('dataloader', {}),
    dataloader('dataloader{cache:false}', { cache: false }),
    {
      name: 'batshit(maxBatchSizeScheduler(1000))',
      kind: 'peer',
      run: async (params) => {
        const { create, maxBatchSizeScheduler } = await import('@yornaath/batshit')
        const { batch, counts } = countingBatch()
        const loader = create({
          fetcher: async (keys) => new Map((await batch(keys)).map((key) => [key, key])),
          resolver: (byKey, key) => byKey.get(key),
          scheduler: maxBatchSizeScheduler({ maxBatchSize: TICK }),
        })
        return measure(params, (key) => loader.fetch(key), counts)
      },
    },
  ],
  columns: [
    { key: 'n', label: 'N loads' },
    { key: 'loadsPerSec', label: 'loads/s' },
    { key: 'elapsedS', label: 'elapsed (s)', digits: 3 },
    { key: 'cpuUsPerLoad', label: 'CPU µs/load', digits: 3 },
    { key: 'batches', label: 'batches' },
    { key: 'maxBatch', label: 'max batch' },
    { key: 'peakRssMb', label: 'peak RSS (MB)' },
  ],
  ratios: [
    { key: 'loadsPerSec', label: 'loads/s', better: 'higher' },
    { key: 'cpuUsPerLoad', label: 'CPU µs/load', better: 'lower' },
    { key: 'peakRssMb', label: 'peak RSS', better: 'lower' },
  ],
  targets: [
    {
      label: 'volley batcher (dedupe on) >= dataloader{cache:false}',
      contender: 'volley batcher',
      key: 'loadsPerSec',
      atLeast: { contender: 'dataloader{cache:false}' },
    },
  ],
})
