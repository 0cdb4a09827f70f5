/**
 * Rate precision at 50 starts/s: 300 tasks, each a 1 ms timer, start times taken with
 * performance.now() inside each task. Two scenarios (BENCH-ANCHORS section 4): every task
 * submitted at t=0; and one task at t=0 with the other 299 at t=900 ms, which probes whether a
 * limiter lets a second burst through at a window edge. Measurements run one at a time: they are
 * about timing, and a busy core would delay timers.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { runBench } from './lib/bench.js'
import { averageRate, maxInWindow, minSpan } from './lib/windows.js'
import { importVolley } from './lib/volley.js'

const LIMIT = 50
const INTERVAL = 1000
const TASKS = 300

/**
 * Creates the limiter at t=0 through `makeSubmit`, submits the tasks as the scenario says, and
 * measures when each started. `submit(task)` returns a promise of the task's result.
 * @param {{ lateAtMs: number | undefined }} scenario
 * @param {() => Promise<(task: () => Promise<number>) => Promise<number>>} makeSubmit
 */
async function measureStarts({ lateAtMs }, makeSubmit) {
  const submitFactory = await makeSubmit()
  const t0 = performance.now()
  const submit = submitFactory()
  const starts = []
  const task = async () => {
    starts.push(performance.now() - t0)
    await sleep(1)
    return 1
  }
  const done = []
  const early = lateAtMs === undefined ? TASKS : 1
  for (let i = 0; i < early; i++) done.push(submit(task))
  if (lateAtMs !== undefined) {
    await sleep(lateAtMs - (performance.now() - t0))
    for (let i = early; i < TASKS; i++) done.push(submit(task))
  }
  const sum = (await Promise.all(done)).reduce((a, b) => a + b, 0)
  const allDoneS = (performance.now() - t0) / 1000
  if (sum !== TASKS || starts.length !== TASKS)
    throw new Error(`expected ${TASKS} tasks, got ${sum} / ${starts.length}`)
  starts.sort((a, b) => a - b)
  const shortest = minSpan(starts, LIMIT + 1)
  return {
    // In the edge probe the lone first task is left out: its idle gap says nothing about the rate.
    avgRate: averageRate(lateAtMs === undefined ? starts : starts.slice(1)),
    firstToLastS: (starts.at(-1) - starts[0]) / 1000,
    allDoneS,
    max1000: maxInWindow(starts, 1000),
    max100: maxInWindow(starts, 100),
    minSpan51Ms: shortest.span,
    // In the JSON lines only: which start the shortest run of 51 begins at (0: the cold first task).
    minSpan51FirstStart: shortest.first,
  }
}

/**
 * A contender from a function that loads its library and returns a factory of `submit`: the
 * library loads before t=0, the limiter is created at t=0.
 */
const contender = (name, kind, load) => ({ name, kind, run: (scenario) => measureStarts(scenario, load) })

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  contender('p-queue{intervalCap:50,interval:1000}', 'peer', async () => {
    const { default: PQueue } = await import('p-queue')
    return () => {
      const queue = new PQueue({ intervalCap: LIMIT, interval: INTERVAL })
      return (task) => queue.add(task)
    }
  }),
  contender('p-queue{...,strict:true}', 'peer', async () => {
    const { default: PQueue } = await import('p-queue')
    return () => {
      const queue = new PQueue({ intervalCap: LIMIT, interval: INTERVAL, strict: true })
      return (task) => queue.add(task)
    }
  }),
  contender('bottleneck{reservoir:50,refresh:1000}', 'peer', async () => {
    const { default: Bottleneck } = await import('bottleneck')
    return () => {
      const limiter = new Bottleneck({
        reservoir: LIMIT,
        reservoirRefreshAmount: LIMIT,
        reservoirRefreshInterval: INTERVAL,
      })
      return (task) => limiter.schedule(task)
    }
  }),
  contender('bottleneck{minTime:20}', 'peer', async () => {
    const { default: Bottleneck } = await import('bottleneck')
    return () => {
      const limiter = new Bottleneck({ minTime: INTERVAL / LIMIT })
      return (task) => limiter.schedule(task)
    }
  }),
  contender('p-throttle{limit:50,interval:1000}', 'peer', async () => {
    const { default: pThrottle } = await import('p-throttle')
    return () => {
      const throttled = pThrottle({ limit: LIMIT, interval: INTERVAL })((task) => task())
      return (task) => throttled(task)
    }
  }),
  contender('p-throttle{...,strict:true}', 'peer', async () => {
    const { default: pThrottle } = await import('p-throttle')
    return () => {
      const throttled = pThrottle({ limit: LIMIT, interval: INTERVAL, strict: true })((task) => task())
      return (task) => throttled(task)
    }
  }),
  contender("volley createLimiter({rate:'50/s'})", 'volley', async () => {
    const { createLimiter } = await importVolley()
    return () => {
      const limiter = createLimiter({ rate: `${LIMIT}/s` })
      return (task) => limiter.run(task)
    }
  }),
]

await runBench({
  name: 'core-rate',
  title: `Rate precision: ${LIMIT} starts/s, ${TASKS} tasks (each a 1 ms timer)`,
  script: import.meta.url,
  packages: ['p-queue', 'bottleneck', 'p-throttle'],
  notes: [
    '- Start times from performance.now() inside each task, from t=0 when the limiter is created.',
    '  avg rate = (N−1) / (last start − first start); in the edge probe over the 299 late tasks only.',
    '  "max in any 1000 / 100 ms" = most starts in any half-open sliding window [t, t+w): the ideal is 50',
    '  per 1000 ms (an evenly spacing limiter shows 5 per 100 ms, a bursting one up to 50). "min time for',
    '  51 starts" >= 1000 ms means the 50/s limit held in every sliding second.',
  ],
  rounds: { normal: 2, quick: 1 },
  scenarios: [
    {
      name: 'all-at-t0',
      title: `All ${TASKS} tasks submitted at t=0`,
      params: () => ({ lateAtMs: undefined }),
    },
    {
      name: 'edge-probe',
      title: `Window-edge probe: 1 task at t=0, the other ${TASKS - 1} at t=900 ms`,
      params: () => ({ lateAtMs: 900 }),
    },
  ],
  contenders,
  columns: [
    { key: 'avgRate', label: 'avg rate (starts/s)', digits: 1 },
    { key: 'firstToLastS', label: 'first→last start (s)', digits: 2 },
    { key: 'allDoneS', label: 'all done (s)', digits: 2 },
    { key: 'max1000', label: 'max in any 1000 ms' },
    { key: 'max100', label: 'max in any 100 ms' },
    { key: 'minSpan51Ms', label: 'min time for 51 starts (ms)', digits: 1 },
  ],
  ratios: [
    { key: 'max1000', label: 'max in any 1000 ms', better: 'lower' },
    { key: 'avgRate', label: 'avg rate', better: 'higher' },
  ],
  targets: ['all-at-t0', 'edge-probe'].map((scenario) => ({
    label: `volley never above ${LIMIT} starts in any sliding 1 s window (${scenario})`,
    scenario,
    contender: "volley createLimiter({rate:'50/s'})",
    key: 'max1000',
    stat: 'max',
    atMost: LIMIT,
  })),
})
