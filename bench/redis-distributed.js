/**
 * One job on many processes (issue 15): lines per second of ONE job of `--lines` GETs (8,000) run
 * by 1, 2 and 4 `volley work` processes through the job queue on Redis Streams, and the same input
 * split the older way, `volley run --shard i/n` in 1, 2 and 4 processes; against volley's mock
 * answering every request in 20 ms (no rate limit), in a process of its own. Every process runs
 * at --concurrency 16 with no --rate, its limiter in Redis under a key of its own (so 16 is per
 * process, as a shard's is); `volley work` with --lease 2s.
 *
 * Also recovery: 4 workers, one SIGKILLed once 40% of the lines have a result; how long from the
 * kill until the job is complete (against the same stretch, from 40% on, of the runs without a
 * kill), until the lines it held were taken over, and until they all had a result.
 *
 *   npm run build && node bench/redis-distributed.js [--lines 8000] [--concurrency 16] [--rounds 3] [--quick] [--redis URL] [--only work-1,shard-1,...,kill-4]
 *
 * Redis: a private redis-server started by the benchmark (loopback, a free port), so its command
 * counters hold only this benchmark's traffic; --redis URL uses another (then the counters are the
 * whole server's). Round trips per line: calls of the commands a client sends itself (EVALSHA,
 * EVAL, SCRIPT, INFO, CLIENT...) in Redis's `INFO commandstats`, over the run, per line; commands
 * per line: the delta of `total_commands_processed` (which also counts each command a script ran),
 * less the benchmark's own polling. Each measurement starts a fresh mock and fresh volley
 * processes under a job name of its own; the units alternate in rotated order each round, and every
 * cell is the median (min–max) over rounds.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flagValue, parseBenchArgs } from './lib/args.js'
import { formatNumber, formatRatio, formatSummary, markdownTable } from './lib/format.js'
import { describeEnvironment } from './lib/machine.js'
import { startMockProcess } from './lib/mock-process.js'
import { countersBetween, countingClient, readCounters, startPrivateRedis } from './lib/redis-server.js'
import { appendResults, writeReport } from './lib/results.js'
import { runRounds } from './lib/rounds.js'
import { summarize } from './lib/stats.js'

const BIN = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url))
const LATENCY_MS = 20
const LEASE = '2s'
const KILL_AT = 0.4
const POLL_MS = 25

/** The shared bench flags (--quick, --rounds, --only) and this bench's own. */
function parseArgs(argv = process.argv.slice(2)) {
  const value = (flag) => flagValue(argv, flag)
  const { quick, rounds, only } = parseBenchArgs(argv)
  return {
    quick,
    lines: Number(value('--lines') ?? (quick ? 2000 : 8000)),
    rounds: rounds ?? (quick ? 1 : 3),
    redis: value('--redis'),
    concurrency: Number(value('--concurrency') ?? 16),
    only,
  }
}

/** Runs the volley CLI; resolves with its exit code (or signal), its stderr kept for a failure's message. */
function volley(args) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now(), stderr })),
  )
  return { child, exit }
}

async function mustSucceed(args) {
  const { code, stderr } = await volley(args).exit
  if (code !== 0) throw new Error(`volley ${args.join(' ')} exited ${code}: ${stderr}`)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One measurement: a fresh mock, then `unit.n` processes of `unit.kind` on the whole input.
 * Resolves with its figures; throws when a line is missing, repeated or not ok.
 */
async function measure(unit, { lines, input, redisUrl, dir, own, concurrency }) {
  const { client: redis, counts } = own
  const mock = await startMockProcess({ latency: { min: LATENCY_MS, max: LATENCY_MS } })
  const job = `bench-dist-${randomBytes(4).toString('hex')}`
  const keys = {
    meta: `volley:job:{${job}}:meta`,
    lines: `volley:job:{${job}}:lines`,
    results: `volley:job:{${job}}:results`,
    workers: `volley:job:{${job}}:workers`,
  }
  try {
    if (unit.kind === 'work') await mustSucceed(['submit', input, '--job', job, '--redis', redisUrl, '-q'])
    const common = ['--base-url', mock.url, '--concurrency', String(concurrency), '--body', 'none', '-q']
    const ownBefore = { all: counts.all, info: counts.info }
    const before = await readCounters(redis)
    const started = Date.now()
    const runs = Array.from({ length: unit.n }, (_, i) =>
      unit.kind === 'work'
        ? volley([
            'work',
            '--job',
            job,
            '--redis',
            redisUrl,
            '--key',
            `${job}-w${i}`,
            '--lease',
            LEASE,
            ...common,
          ])
        : volley([
            'run',
            input,
            '--shard',
            `${i + 1}/${unit.n}`,
            '--out',
            join(dir, `${job}-part-${i + 1}.jsonl`),
            '--overwrite',
            '--redis',
            redisUrl,
            '--key',
            `${job}-s${i}`,
            ...common,
          ]),
    )
    const exits = Promise.all(runs.map((r) => r.exit))
    let ended = false
    void exits.then(() => {
      ended = true
    })
    // Progress, for the work runs: when 40% of the lines had a result; for the kill run, the kill.
    const watch = {
      markAt: undefined,
      killAt: undefined,
      held: [],
      takenAt: undefined,
      heldDoneAt: undefined,
    }
    if (unit.kind === 'work') {
      let victim
      while (!ended) {
        await sleep(POLL_MS)
        const done = await redis.hlen(keys.results)
        if (watch.markAt === undefined && done >= KILL_AT * lines) {
          watch.markAt = Date.now()
          if (unit.kill) {
            victim = runs.at(-1).child
            victim.kill('SIGKILL')
            watch.killAt = Date.now()
            // Its consumer is `<host>-<pid>-<random>`: the lines it held are its pending entries.
            const fields = await redis.hkeys(keys.workers)
            const name = fields
              .find((f) => f.includes(`-${victim.pid}-`) && f.endsWith(':first'))
              ?.slice(0, -6)
            if (name === undefined) throw new Error(`no worker of pid ${victim.pid} in ${keys.workers}`)
            victim.consumer = name
            const pending = await redis.xpending(keys.lines, 'workers', '-', '+', 100_000, name)
            watch.held = pending.map(([id]) => id.slice(0, id.indexOf('-')))
          }
        }
        if (victim && watch.takenAt === undefined) {
          const still = await redis.xpending(keys.lines, 'workers', '-', '+', 1, victim.consumer)
          if (still.length === 0) watch.takenAt = Date.now()
        }
        if (victim && watch.heldDoneAt === undefined) {
          const results = watch.held.length === 0 ? [] : await redis.hmget(keys.results, ...watch.held)
          if (results.every((r) => r !== null)) watch.heldDoneAt = Date.now()
        }
      }
    }
    const outcomes = await exits
    const finished = Math.max(...outcomes.map((o) => o.at))
    const ownAfter = { all: counts.all - ownBefore.all, info: counts.info - ownBefore.info }
    const after = await readCounters(redis)
    const counted = countersBetween(before, after, { own: ownAfter.all, ownInfo: ownAfter.info })
    outcomes.forEach((o, i) => {
      const killed = unit.kill && i === runs.length - 1
      if (killed ? o.signal !== 'SIGKILL' : o.code !== 0)
        throw new Error(`${unit.kind} process ${i + 1} ended ${o.code ?? o.signal}: ${o.stderr}`)
    })
    const { stats } = await mock.report()
    const figures = {
      linesPerSec: (lines * 1000) / (finished - started),
      wallS: (finished - started) / 1000,
      roundTripsPerLine: counted.roundTrips / lines,
      commandsPerLine: counted.commands / lines,
      redisCpuUsPerLine: (counted.cpuS * 1e6) / lines,
      requests: stats.requests,
    }
    if (unit.kind === 'work') {
      const [completed, dupes, taken] = await redis.hmget(keys.meta, 'completed', 'dupes', 'taken')
      if (completed === null) throw new Error(`job ${job} is not complete`)
      const workerFields = await redis.hgetall(keys.workers)
      const firsts = Object.entries(workerFields)
        .filter(([field]) => field.endsWith(':first'))
        .map(([, at]) => Number(at))
      const jobStart = Math.min(...firsts)
      const finishes = await checkJob(redis, keys.results, lines)
      Object.assign(figures, {
        steadyLinesPerSec: steadyRate(finishes),
        jobLinesPerSec: (lines * 1000) / (Number(completed) - jobStart),
        exitLagMs: finished - Number(completed),
        duplicates: Number(dupes),
        takenOver: Number(taken),
        fromMarkS: watch.markAt === undefined ? Number.NaN : (Number(completed) - watch.markAt) / 1000,
      })
      // Had the processes exited before the last poll saw it, the job's completion bounds both.
      watch.takenAt ??= Number(completed)
      watch.heldDoneAt ??= Number(completed)
      if (unit.kill)
        Object.assign(figures, {
          killedHeld: watch.held.length,
          takenAfterS: (watch.takenAt - watch.killAt) / 1000,
          heldDoneAfterS: (watch.heldDoneAt - watch.killAt) / 1000,
        })
      await redis.del(...Object.values(keys), `volley:job:{${job}}:deadlines`)
    } else {
      const finishes = checkShards(
        runs.map((_, i) => join(dir, `${job}-part-${i + 1}.jsonl`)),
        lines,
      )
      figures.steadyLinesPerSec = steadyRate(finishes)
    }
    return figures
  } finally {
    await mock.close()
  }
}

/**
 * Lines per second between the moments 10% and 90% of the lines had finished (a record's `start`
 * plus its `ms`): the rate once every process runs, without Node's start-up or the last stragglers.
 */
function steadyRate(finishes) {
  const sorted = finishes.sort((a, b) => a - b)
  const from = Math.floor(sorted.length * 0.1)
  const to = Math.ceil(sorted.length * 0.9) - 1
  return ((to - from) * 1000) / (sorted[to] - sorted[from])
}

/**
 * Every line of the job has a result, a response record of that line with status 200. Returns
 * when each line's request finished (epoch ms).
 */
async function checkJob(redis, resultsKey, lines) {
  const finishes = []
  for (let from = 1; from <= lines; from += 1000) {
    const ids = Array.from({ length: Math.min(1000, lines - from + 1) }, (_, i) => from + i)
    const results = await redis.hmget(resultsKey, ...ids)
    results.forEach((text, i) => {
      const record = text === null ? undefined : JSON.parse(text)
      if (record?.index !== ids[i] || record.status !== 200)
        throw new Error(`line ${ids[i]}: expected a 200 record, got ${text}`)
      finishes.push(record.start + record.ms)
    })
  }
  return finishes
}

/** The shards' output files hold every line once, each a 200. Returns when each line's request finished. */
function checkShards(files, lines) {
  const seen = new Uint8Array(lines + 1)
  const finishes = []
  for (const file of files) {
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (!text.startsWith('{"id"')) continue
      const record = JSON.parse(text)
      if (record.status !== 200) throw new Error(`${file}: line ${record.index} answered ${record.status}`)
      if (seen[record.index]++) throw new Error(`line ${record.index} is in the shards' output twice`)
      finishes.push(record.start + record.ms)
    }
    rmSync(file)
  }
  const missing = seen.findIndex((n, i) => i > 0 && n === 0)
  if (missing !== -1) throw new Error(`line ${missing} is in no shard's output`)
  return finishes
}

/** The unit's name for --only: work-1, shard-2, kill-4... */
const idOf = (unit) => `${unit.kill ? 'kill' : unit.kind}-${unit.n}`

const label = (unit) =>
  unit.kind === 'work'
    ? `volley work × ${unit.n}${unit.kill ? ', 1 SIGKILLed at 40%' : ''}`
    : `volley run --shard i/${unit.n} × ${unit.n}`

async function main() {
  const args = parseArgs()
  const header = [
    `## One job on 1, 2 and 4 processes: the Redis Streams job queue (\`volley work\`) and \`volley run --shard\``,
    '',
    ...describeEnvironment(['ioredis']),
    `- ${args.rounds} round(s)${args.quick ? ' (--quick)' : ''}; every cell: median (min–max) over rounds`,
  ]
  const privateRedis = args.redis ? undefined : await startPrivateRedis()
  const redisUrl = args.redis ?? privateRedis.url
  const dir = mkdtempSync(join(tmpdir(), 'volley-bench-dist-'))
  const input = join(dir, 'input.txt')
  writeFileSync(input, `${Array.from({ length: args.lines }, (_, i) => `/items/${i + 1}`).join('\n')}\n`)
  const own = await countingClient(redisUrl)
  const units = [
    ...[1, 2, 4].flatMap((n) => [
      { kind: 'work', n },
      { kind: 'shard', n },
    ]),
    { kind: 'work', n: 4, kill: true },
  ].filter((unit) => !args.only || args.only.includes(idOf(unit)))
  const runId = new Date().toISOString()
  let measurements
  try {
    measurements = await runRounds(units, args.rounds, async (unit, round) => {
      const started = performance.now()
      const figures = await measure(unit, {
        lines: args.lines,
        input,
        redisUrl,
        dir,
        own,
        concurrency: args.concurrency,
      })
      process.stderr.write(
        `[redis-distributed] round ${round + 1}/${args.rounds} ${label(unit)}: ${formatNumber(figures.linesPerSec)} lines/s (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
      )
      return figures
    })
  } finally {
    own.client.disconnect()
    await privateRedis?.close()
    rmSync(dir, { recursive: true, force: true })
  }
  appendResults(
    'redis-distributed',
    runId,
    measurements.map(({ unit, round, result }) => ({
      contender: label(unit),
      round,
      lines: args.lines,
      ...result,
    })),
  )
  const cell = (unit, key) =>
    summarize(
      measurements
        .filter((m) => m.unit.kind === unit.kind && m.unit.n === unit.n && !!m.unit.kill === !!unit.kill)
        .map((m) => m.result[key]),
    )
  const median = (unit, key) => cell(unit, key)?.median ?? Number.NaN
  const notes = [
    `- Job: ${formatNumber(args.lines)} lines \`/items/<n>\`; server: volley's mock answering every request after ${LATENCY_MS} ms, no rate limit, in a process of its own (bench/lib/mock-process.js), a fresh one per measurement.`,
    `- \`volley work --job J --redis R --key J-w<i> --lease ${LEASE} --concurrency ${args.concurrency} --body none -q\` per process, after \`volley submit\`; \`volley run input --shard i/n --out part-i.jsonl --redis R --key J-s<i> --concurrency ${args.concurrency} --body none -q\` per process. Each process's limiter is in Redis under its own key, so ${args.concurrency} in flight per process (one shared key would make --concurrency the total of all of them). At most ${args.concurrency} × ${LATENCY_MS} ms gives ${formatNumber((args.concurrency * 1000) / LATENCY_MS)} lines/s per process.`,
    `- Redis: ${privateRedis ? 'a private redis-server started by the benchmark (its counters hold only this benchmark)' : `${redisUrl} (counters are the whole server's)`}.`,
    '- lines/s: lines over the wall time from starting the processes to the last one exiting (Node start-up included). Steady lines/s: 80% of the lines over the time from the 10th to the 90th percentile of the moments their requests finished (from each record’s `start` and `ms`, in Redis or in the shards’ files): the rate with every process running, start-up and stragglers left out. Exit lag: from the last result to the last process exiting.',
    '- Round trips per line: EVALSHA/EVAL/SCRIPT/INFO/CLIENT... calls in `INFO commandstats` over the run (the job queue and the limiter in Redis both), per line. Commands per line: `total_commands_processed` delta (commands run inside scripts included), less the benchmark polling, per line. Redis CPU: the private Redis’s `used_cpu_user` + `used_cpu_sys` over the run (the benchmark’s polling included), per line.',
    `- Every run checks that every line has one result, a 200 record of that line (Redis results hash for work, the shards' files for run).`,
    `- Machine shared with other jobs while it ran: figures are noisy; 2 cores run the n volley processes, the mock and Redis.`,
  ]
  const efficiency = (unit, key) => formatRatio(median(unit, key) / (unit.n * median({ ...unit, n: 1 }, key)))
  const rows = units.map((unit) => [
    label(unit),
    formatSummary(cell(unit, 'linesPerSec')),
    formatSummary(cell(unit, 'wallS'), 2),
    unit.kill ? '—' : efficiency(unit, 'linesPerSec'),
    formatSummary(cell(unit, 'steadyLinesPerSec')),
    unit.kill ? '—' : efficiency(unit, 'steadyLinesPerSec'),
    formatSummary(cell(unit, 'roundTripsPerLine'), 2),
    formatSummary(cell(unit, 'commandsPerLine'), 1),
    formatSummary(cell(unit, 'redisCpuUsPerLine'), 1),
    unit.kind === 'work' ? formatSummary(cell(unit, 'exitLagMs')) : '—',
    formatSummary(cell(unit, 'requests')),
  ])
  const table = markdownTable(
    [
      'processes',
      'lines/s',
      'wall (s)',
      'scaling efficiency',
      'steady lines/s (10%–90%)',
      'steady scaling efficiency',
      'round trips / line',
      'Redis commands / line',
      'Redis CPU (µs / line)',
      'exit lag (ms)',
      'requests served',
    ],
    rows,
  )
  const ratios = markdownTable(
    [
      'processes',
      'work ÷ shard, lines/s',
      'work ÷ shard, steady lines/s',
      'work ÷ shard, round trips / line',
    ],
    [1, 2, 4].map((n) => [
      String(n),
      formatRatio(median({ kind: 'work', n }, 'linesPerSec') / median({ kind: 'shard', n }, 'linesPerSec')),
      formatRatio(
        median({ kind: 'work', n }, 'steadyLinesPerSec') / median({ kind: 'shard', n }, 'steadyLinesPerSec'),
      ),
      formatRatio(
        median({ kind: 'work', n }, 'roundTripsPerLine') / median({ kind: 'shard', n }, 'roundTripsPerLine'),
      ),
    ]),
  )
  const killed = { kind: 'work', n: 4, kill: true }
  const calm = { kind: 'work', n: 4 }
  const recovery = markdownTable(
    [
      '4 workers, --lease 2s',
      'from 40% done to job complete (s)',
      'total wall (s)',
      'taken over',
      'duplicates',
    ],
    [
      [
        'no kill',
        formatSummary(cell(calm, 'fromMarkS'), 2),
        formatSummary(cell(calm, 'wallS'), 2),
        formatSummary(cell(calm, 'takenOver')),
        formatSummary(cell(calm, 'duplicates')),
      ],
      [
        'one SIGKILLed at 40% (from the kill)',
        formatSummary(cell(killed, 'fromMarkS'), 2),
        formatSummary(cell(killed, 'wallS'), 2),
        formatSummary(cell(killed, 'takenOver')),
        formatSummary(cell(killed, 'duplicates')),
      ],
    ],
  )
  const recoveryNotes = [
    `The killed worker held ${formatSummary(cell(killed, 'killedHeld'))} lines (its pending entries); they were all taken over ${formatSummary(cell(killed, 'takenAfterS'), 2)} s after the kill and all had results ${formatSummary(cell(killed, 'heldDoneAfterS'), 2)} s after it. The kill cost the job ${formatNumber(median(killed, 'fromMarkS') - median(calm, 'fromMarkS'), 2)} s (medians; the lease is 2 s).`,
  ]
  const hasKill =
    units.some((unit) => unit.kill) && units.some((unit) => unit.kind === 'work' && unit.n === 4)
  const markdown = [
    ...header,
    ...notes,
    '',
    table,
    '',
    'Scaling efficiency: lines/s with n processes ÷ (n × lines/s with 1), on medians (wall, and steady).',
    '',
    ratios,
    ...(hasKill ? ['', '### Recovery', '', recovery, '', ...recoveryNotes] : []),
  ].join('\n')
  process.stdout.write(`${markdown}\n`)
  process.stderr.write(`[redis-distributed] report: ${writeReport('redis-distributed', markdown)}\n`)
}

await main()
