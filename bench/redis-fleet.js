/**
 * A simulated fleet on one job (issue 15): 100 consumers, 10 processes × 10 `workJob` calls (the
 * library, volley/redis), on a job of `--lines` lines (100,000), each line one GET of a local
 * node:http server answering after 20 ms (bench/http-server.js, in a process of its own), through
 * undici; every consumer at concurrency 4 with a 2 s lease. Figures: lines/s, time to complete,
 * Redis round trips per line (the job queue alone: no limiter here), and recovery: 2 of the 10
 * processes SIGKILLed once 40% of the lines have a result, how long until the lines their 20
 * consumers held were taken over and had results, and until the job was complete, against the
 * same stretch of the runs without a kill. Every run checks with collectJob that every line has
 * exactly one result, its own, and prints the check.
 *
 *   npm run build && node bench/redis-fleet.js [--lines 100000] [--rounds 3] [--quick] [--redis URL]
 *
 * Redis: a private redis-server started by the benchmark (see bench/lib/redis-server.js), unless
 * --redis URL. The two units (no kill, kill 2) alternate, order rotated each round; every cell is
 * the median (min–max) over rounds.
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { startBenchServer } from './http-server.js'
import { flagValue, parseBenchArgs } from './lib/args.js'
import { formatNumber, formatSummary, markdownTable } from './lib/format.js'
import { describeEnvironment } from './lib/machine.js'
import { countersBetween, countingClient, readCounters, startPrivateRedis } from './lib/redis-server.js'
import { appendResults, writeReport } from './lib/results.js'
import { runRounds } from './lib/rounds.js'
import { summarize } from './lib/stats.js'
import { importVolley } from './lib/volley.js'

const PROCESSES = 10
const CONSUMERS = 10
const CONCURRENCY = 4
const LEASE_MS = 2_000
const LATENCY_MS = 20
const KILLED = 2
const KILL_AT = 0.4
const POLL_MS = 50

/** The shared bench flags (--quick, --rounds) and this bench's own. */
function parseArgs(argv = process.argv.slice(2)) {
  const value = (flag) => flagValue(argv, flag)
  const { quick, rounds } = parseBenchArgs(argv)
  return {
    quick,
    lines: Number(value('--lines') ?? (quick ? 20_000 : 100_000)),
    rounds: rounds ?? (quick ? 1 : 3),
    redis: value('--redis'),
  }
}

/** One process of the fleet: CONSUMERS workJob calls sharing one undici Agent. */
async function worker(config) {
  const { workJob } = await importVolley('redis/index.js')
  const { Agent, request } = await import('undici')
  const agent = new Agent({ connections: CONSUMERS * CONCURRENCY, keepAliveTimeout: 60_000 })
  const url = `${config.server}/delay/${LATENCY_MS}`
  const handle = async ({ line }) => {
    const { statusCode, body } = await request(url, { dispatcher: agent })
    await body.dump()
    return { ok: statusCode === 200, result: `${line} ${statusCode}` }
  }
  let records = 0
  process.send({ type: 'ready' })
  await new Promise((resolve) => process.once('message', resolve))
  const outcomes = await Promise.all(
    Array.from({ length: CONSUMERS }, (_, i) =>
      workJob({
        job: config.job,
        url: config.redisUrl,
        handle,
        concurrency: CONCURRENCY,
        lease: LEASE_MS,
        name: `${config.name}-c${i}`,
        on: { recorded: () => records++ },
      }),
    ),
  )
  process.send({ type: 'done', outcomes, records }, () => process.exit(0))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Forks the fleet; resolves once every process is ready for `go`. */
async function startFleet(config) {
  const script = fileURLToPath(import.meta.url)
  return Promise.all(
    Array.from(
      { length: PROCESSES },
      (_, p) =>
        new Promise((resolve, reject) => {
          const name = `p${p}`
          const child = fork(script, ['--worker', JSON.stringify({ ...config, name })], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          })
          const ended = new Promise((settle) => {
            child.on('message', (m) => m.type === 'done' && settle({ ...m, at: Date.now() }))
            child.once('exit', (code, signal) => settle({ code, signal, at: Date.now() }))
          })
          child.on('message', (m) => m.type === 'ready' && resolve({ name, child, ended }))
          child.once('exit', (code) =>
            reject(new Error(`fleet process ${name} exited (${code}) before ready`)),
          )
        }),
    ),
  )
}

/** Every line 1..lines once, in order, each result its own line's 200: the check, as a sentence. */
async function checkCollected(collectJob, where, lines) {
  let expected = 1
  for await (const { line, result } of collectJob(where)) {
    if (line !== expected) throw new Error(`collectJob: expected line ${expected}, got line ${line}`)
    if (result !== `${line} 200`) throw new Error(`collectJob: line ${line}'s result is ${result}`)
    expected++
  }
  if (expected - 1 !== lines) throw new Error(`collectJob: ${expected - 1} lines, expected ${lines}`)
  return `collectJob gave ${formatNumber(lines)} lines, 1 to ${formatNumber(lines)} each exactly once in order, every result its own line's 200`
}

async function measure(unit, { lines, redisUrl, own }) {
  const { submitJob, collectJob, jobStatus } = await importVolley('redis/index.js')
  const { client: redis, counts } = own
  const server = await startBenchServer()
  const job = `bench-fleet-${randomBytes(4).toString('hex')}`
  const where = { job, url: redisUrl }
  const keys = {
    meta: `volley:job:{${job}}:meta`,
    lines: `volley:job:{${job}}:lines`,
    results: `volley:job:{${job}}:results`,
    workers: `volley:job:{${job}}:workers`,
    deadlines: `volley:job:{${job}}:deadlines`,
  }
  try {
    await submitJob({ ...where, lines: Array.from({ length: lines }, (_, i) => `${i + 1}`) })
    const fleet = await startFleet({ job, redisUrl, server: server.url })
    const ownBefore = { all: counts.all, info: counts.info }
    const before = await readCounters(redis)
    const started = Date.now()
    for (const { child } of fleet) child.send('go')
    const all = Promise.all(fleet.map((f) => f.ended))
    let ended = false
    void all.then(() => {
      ended = true
    })
    const victims = unit.kill ? fleet.slice(-KILLED) : []
    const watch = {
      markAt: undefined,
      killAt: undefined,
      held: [],
      takenAt: undefined,
      heldDoneAt: undefined,
    }
    const victimOf = (consumer) => victims.some((v) => consumer.startsWith(`${v.name}-`))
    while (!ended) {
      await sleep(POLL_MS)
      const doneNow = await redis.hlen(keys.results)
      if (watch.at10 === undefined && doneNow >= 0.1 * lines) watch.at10 = { at: Date.now(), done: doneNow }
      if (watch.at90 === undefined && doneNow >= 0.9 * lines) watch.at90 = { at: Date.now(), done: doneNow }
      if (watch.markAt === undefined && doneNow >= KILL_AT * lines) {
        watch.markAt = Date.now()
        if (unit.kill) {
          for (const { child } of victims) child.kill('SIGKILL')
          watch.killAt = Date.now()
          const [, , , consumers] = await redis.xpending(keys.lines, 'workers')
          for (const [consumer] of consumers ?? []) {
            if (!victimOf(consumer)) continue
            const pending = await redis.xpending(keys.lines, 'workers', '-', '+', 100_000, consumer)
            watch.held.push(...pending.map(([id]) => id.slice(0, id.indexOf('-'))))
          }
        }
      }
      if (watch.killAt !== undefined && watch.takenAt === undefined) {
        const [, , , consumers] = await redis.xpending(keys.lines, 'workers')
        if (!(consumers ?? []).some(([consumer]) => victimOf(consumer))) watch.takenAt = Date.now()
      }
      if (watch.killAt !== undefined && watch.heldDoneAt === undefined) {
        const results = watch.held.length === 0 ? [] : await redis.hmget(keys.results, ...watch.held)
        if (results.every((r) => r !== null)) watch.heldDoneAt = Date.now()
      }
    }
    const outcomes = await all
    const finished = Math.max(...outcomes.map((o) => o.at))
    const ownAfter = { all: counts.all - ownBefore.all, info: counts.info - ownBefore.info }
    const after = await readCounters(redis)
    const counted = countersBetween(before, after, { own: ownAfter.all, ownInfo: ownAfter.info })
    outcomes.forEach((o, p) => {
      const killed = p >= PROCESSES - victims.length
      if (killed ? o.signal !== 'SIGKILL' : o.type !== 'done' || !o.outcomes.every((w) => w.complete))
        throw new Error(`fleet process p${p} ended ${o.code ?? o.signal ?? JSON.stringify(o.outcomes)}`)
    })
    const status = await jobStatus(where)
    if (status.state !== 'complete' || status.done !== lines)
      throw new Error(`job ${job}: ${status.state}, ${status.done} of ${lines} done`)
    const check = await checkCollected(collectJob, where, lines)
    const [completed] = await redis.hmget(keys.meta, 'completed')
    const workerFields = await redis.hgetall(keys.workers)
    const jobStart = Math.min(
      ...Object.entries(workerFields)
        .filter(([field]) => field.endsWith(':first'))
        .map(([, at]) => Number(at)),
    )
    watch.takenAt ??= Number(completed)
    watch.heldDoneAt ??= Number(completed)
    const records = outcomes.reduce((sum, o) => sum + (o.records ?? 0), 0)
    const survivorsDone = outcomes.flatMap((o) => o.outcomes ?? []).reduce((sum, w) => sum + w.done, 0)
    await redis.del(...Object.values(keys))
    return {
      check,
      figures: {
        linesPerSec: (lines * 1000) / (finished - started),
        wallS: (finished - started) / 1000,
        jobLinesPerSec: (lines * 1000) / (Number(completed) - jobStart),
        steadyLinesPerSec: ((watch.at90.done - watch.at10.done) * 1000) / (watch.at90.at - watch.at10.at),
        jobS: (Number(completed) - jobStart) / 1000,
        exitLagMs: finished - Number(completed),
        roundTripsPerLine: counted.roundTrips / lines,
        commandsPerLine: counted.commands / lines,
        redisCpuUsPerLine: (counted.cpuS * 1e6) / lines,
        // RECORD calls of the surviving processes, per line they recorded.
        linesPerRecord: survivorsDone / records,
        takenOver: status.takenOver,
        duplicates: status.duplicates,
        fromMarkS: (Number(completed) - watch.markAt) / 1000,
        ...(unit.kill
          ? {
              killedHeld: watch.held.length,
              takenAfterS: (watch.takenAt - watch.killAt) / 1000,
              heldDoneAfterS: (watch.heldDoneAt - watch.killAt) / 1000,
            }
          : {}),
      },
    }
  } finally {
    server.stop()
  }
}

const label = (unit) =>
  unit.kill
    ? `${PROCESSES} × ${CONSUMERS} consumers, ${KILLED} processes SIGKILLed at 40%`
    : `${PROCESSES} × ${CONSUMERS} consumers`

async function main() {
  const args = parseArgs()
  const privateRedis = args.redis ? undefined : await startPrivateRedis()
  const redisUrl = args.redis ?? privateRedis.url
  const header = [
    `## A fleet on one job: ${PROCESSES} processes × ${CONSUMERS} \`workJob\` consumers, ${formatNumber(args.lines)} lines`,
    '',
    ...describeEnvironment(['ioredis', 'undici']),
    `- ${args.rounds} round(s)${args.quick ? ' (--quick)' : ''}; every cell: median (min–max) over rounds`,
  ]
  const own = await countingClient(redisUrl)
  const units = [{ kill: false }, { kill: true }]
  const runId = new Date().toISOString()
  const checks = []
  let measurements
  try {
    measurements = await runRounds(units, args.rounds, async (unit, round) => {
      const { check, figures } = await measure(unit, { lines: args.lines, redisUrl, own })
      checks.push(`${label(unit)}, round ${round + 1}: ${check}`)
      process.stderr.write(
        `[redis-fleet] round ${round + 1}/${args.rounds} ${label(unit)}: ${formatNumber(figures.linesPerSec)} lines/s; ${check}\n`,
      )
      return figures
    })
  } finally {
    own.client.disconnect()
    await privateRedis?.close()
  }
  appendResults(
    'redis-fleet',
    runId,
    measurements.map(({ unit, round, result }) => ({
      contender: label(unit),
      round,
      lines: args.lines,
      ...result,
    })),
  )
  const cell = (unit, key) =>
    summarize(measurements.filter((m) => m.unit.kill === unit.kill).map((m) => m.result[key]))
  const notes = [
    `- Server: a node:http server in a process of its own (bench/http-server.js), \`GET /delay/${LATENCY_MS}\` answering after ${LATENCY_MS} ms; a fresh one per measurement.`,
    `- Fleet: ${PROCESSES} processes, each ${CONSUMERS} \`workJob({ job, url, handle, concurrency: ${CONCURRENCY}, lease: ${LEASE_MS} })\` calls (their own Redis connection each) sharing an undici Agent; \`handle\` GETs the server and returns \`{ ok, result: '<line> <status>' }\`. ${PROCESSES * CONSUMERS} consumers, up to ${PROCESSES * CONSUMERS * CONCURRENCY} requests in flight: the 2 cores bind, not the server's latency.`,
    `- Redis: ${privateRedis ? 'a private redis-server started by the benchmark (its counters hold only this benchmark)' : `${redisUrl} (counters are the whole server's)`}.`,
    '- lines/s and wall: from telling the (already started) processes to go until the last one exited. Steady lines/s: between the polls (every 50 ms) that first saw 10% and 90% of the lines with a result: the rate once every process has warmed up (each of the 10 compiles its code anew). Job time: Redis time from the first consumer joining to the last result. Exit lag: from the last result to the last process exiting.',
    '- Round trips per line: EVALSHA/EVAL/SCRIPT/INFO/CLIENT... calls in `INFO commandstats` over the run, per line (CLAIM, RECORD and RELEASE: there is no limiter here). Commands per line: `total_commands_processed` delta (commands run inside the scripts included), less the benchmark polling. Redis CPU: `used_cpu_user` + `used_cpu_sys` over the run (the benchmark’s polling included), per line. Lines per RECORD: lines the surviving consumers recorded over their RECORD calls.',
    `- Kill: once ${KILL_AT * 100}% of the lines have a result, processes p8 and p9 (20 consumers) get SIGKILL; the lines they held are their consumers' pending entries at that moment.`,
    '- Machine shared with other jobs while it ran: figures are noisy.',
  ]
  const table = markdownTable(
    [
      'fleet',
      'lines/s',
      'steady lines/s (10%–90%)',
      'wall (s)',
      'job time (s)',
      'exit lag (ms)',
      'round trips / line',
      'Redis commands / line',
      'Redis CPU (µs / line)',
      'lines / RECORD',
      'taken over',
      'duplicates',
    ],
    units.map((unit) => [
      label(unit),
      formatSummary(cell(unit, 'linesPerSec')),
      formatSummary(cell(unit, 'steadyLinesPerSec')),
      formatSummary(cell(unit, 'wallS'), 2),
      formatSummary(cell(unit, 'jobS'), 2),
      formatSummary(cell(unit, 'exitLagMs')),
      formatSummary(cell(unit, 'roundTripsPerLine'), 2),
      formatSummary(cell(unit, 'commandsPerLine'), 1),
      formatSummary(cell(unit, 'redisCpuUsPerLine'), 1),
      formatSummary(cell(unit, 'linesPerRecord'), 2),
      formatSummary(cell(unit, 'takenOver')),
      formatSummary(cell(unit, 'duplicates')),
    ]),
  )
  const kill = { kill: true }
  const calm = { kill: false }
  const recovery = markdownTable(
    ['', 'seconds (median, min–max)'],
    [
      ['from 40% done to job complete, no kill', formatSummary(cell(calm, 'fromMarkS'), 2)],
      ['from the kill (at 40%) to job complete', formatSummary(cell(kill, 'fromMarkS'), 2)],
      [
        `from the kill until every line the killed consumers held was taken over`,
        formatSummary(cell(kill, 'takenAfterS'), 2),
      ],
      [
        'from the kill until every one of those lines had a result',
        formatSummary(cell(kill, 'heldDoneAfterS'), 2),
      ],
    ],
  )
  const markdown = [
    ...header,
    ...notes,
    '',
    table,
    '',
    `### Recovery: ${KILLED} of ${PROCESSES} processes SIGKILLed, lease ${LEASE_MS / 1000} s`,
    '',
    recovery,
    '',
    `The killed consumers held ${formatSummary(cell(kill, 'killedHeld'))} lines at the kill.`,
    '',
    'Checks:',
    '',
    ...checks.map((c) => `- ${c}`),
  ].join('\n')
  process.stdout.write(`${markdown}\n`)
  process.stderr.write(`[redis-fleet] report: ${writeReport('redis-fleet', markdown)}\n`)
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]))
else await main()
