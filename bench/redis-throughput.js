// Tasks per second through a Redis-backed shared limiter, from 1 and from 4 processes, and Redis
// round trips per task: volley's redisStore against bottleneck's Redis clustering (ioredis), in the
// same run, against the same Redis. No API is called: empty tasks measure the limiter's own cost.
// Three cases: a rate alone (1,000,000/s, which never binds: every task still takes a start from
// the shared window); a concurrency of 32 shared by all processes (plus, for volley, that rate);
// and that rate alone with tasks that stand for API calls (each waits 10 ms, 64 at a time in each
// process, like a worker with 64 connections): there a process is bound by its calls, not its CPU,
// so a fleet should add up, 4 processes doing 4 times the work of one, unless the store holds it back.
//
//   npm run build && node bench/redis-throughput.js [--tasks 20000] [--rounds 3] [--quick: 4000 tasks, 1 round]
//     [--baseline DIR: volley also as "volley (baseline)", loaded from another build, interleaved]
//     [--redis URL]
//
// Each measurement runs in fresh processes; contenders alternate, and each cell is the median of
// the rounds. Round trips are commands sent by the limiter's own ioredis client (counted in the
// client), so pub/sub deliveries and script loading on first use are the only things not counted.
// Redis is a private redis-server the benchmark starts (lib/redis-server.js), unless --redis URL
// names another. CPU is the workers' own (user + system, summed over the processes) and Redis's
// (INFO cpu: every client of that Redis counts, hence a private one), per second of the run: 1.00
// is one core busy the whole time.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { readCounters, startPrivateRedis } from './lib/redis-server.js'
import { importVolley, resolveDist, VOLLEY_DIST_ENV } from './lib/volley.js'

const CONCURRENCY = 32
/** The 'calls' case: how long each task waits, and how many each process keeps in flight. */
const CALL_MS = 10
const CALLS_PER_PROCESS = 64
const RATE = 1_000_000
/** bottleneck runs this fraction of the tasks: at its speed the same count would take minutes. */
const BOTTLENECK_SHARE = 0.1

async function worker({ lib, limit, key, tasks, processes, redisUrl }) {
  const { Redis } = await import('ioredis')
  // Counts every command this process's limiter sends: one command = one round trip.
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 0 })
  let commands = 0
  const send = client.sendCommand.bind(client)
  client.sendCommand = (command, stream) => {
    commands++
    return send(command, stream)
  }
  const shared = limit === 'concurrency'
  const task =
    limit === 'calls' ? () => new Promise((resolve) => setTimeout(resolve, CALL_MS)) : async () => {}
  let schedule
  let close
  if (lib !== 'bottleneck') {
    const { redisStore } = await importVolley('redis/index.js')
    const { createLimiter } = await importVolley('limit/limiter.js')
    const store = redisStore({ client })
    const concurrency = shared ? CONCURRENCY : undefined
    const limiter = createLimiter({ store, key, concurrency, rate: `${RATE}/s` })
    schedule = (fn) => limiter.run(fn)
    close = async () => {
      await limiter.close()
      await store.close()
    }
  } else {
    const { default: Bottleneck } = await import('bottleneck')
    const connection = new Bottleneck.IORedisConnection({ client })
    const limits = shared
      ? { maxConcurrent: CONCURRENCY }
      : { reservoir: RATE, reservoirRefreshAmount: RATE, reservoirRefreshInterval: 1000 }
    const limiter = new Bottleneck({ id: key, datastore: 'ioredis', connection, ...limits })
    await limiter.ready()
    schedule = (fn) => limiter.schedule(fn)
    close = async () => {
      await limiter.disconnect(false)
    }
  }
  process.send({ type: 'ready' })
  await new Promise((resolve) => process.once('message', resolve))
  const before = commands
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  // Keep twice the shared concurrency queued over all processes, like busy workers; or, for calls,
  // a worker's connections' worth.
  const inFlight = limit === 'calls' ? CALLS_PER_PROCESS : (2 * CONCURRENCY) / processes + 1
  let next = 0
  let done = 0
  // Calls bind each process, so each runs the whole count: a fleet's run lasts as long as one's.
  const per = limit === 'calls' ? tasks : Math.ceil(tasks / processes)
  await new Promise((resolve) => {
    const launch = () => {
      while (next < per && next - done < inFlight) {
        next++
        schedule(task).then(() => {
          done++
          if (done === per) resolve()
          else launch()
        })
      }
    }
    launch()
  })
  const ms = performance.now() - start
  const cpu = process.cpuUsage(cpuBefore)
  const sent = commands - before
  await close()
  client.disconnect()
  // Exit once the figures are delivered: bottleneck keeps timers alive after disconnect().
  const cpuMs = (cpu.user + cpu.system) / 1000
  process.send({ type: 'done', tasks: per, ms, commands: sent, cpuMs }, () => process.exit(0))
}

async function measure(redis, redisUrl, lib, limit, processes, tasks, baseline) {
  const key = `bench-${randomBytes(4).toString('hex')}`
  const script = fileURLToPath(import.meta.url)
  // The baseline's children load volley from the other build (see lib/volley.js).
  const env = lib === 'baseline' ? { ...process.env, [VOLLEY_DIST_ENV]: baseline } : process.env
  const children = Array.from({ length: processes }, () =>
    fork(script, ['--worker', JSON.stringify({ lib, limit, key, tasks, processes, redisUrl })], { env }),
  )
  const message = (child, type) =>
    new Promise((resolve, reject) => {
      child.on('message', (m) => m.type === type && resolve(m))
      child.once('exit', (code) => code !== 0 && reject(new Error(`${lib} worker exited ${code}`)))
    })
  await Promise.all(children.map((child) => message(child, 'ready')))
  const results = children.map((child) => message(child, 'done'))
  const redisBefore = (await readCounters(redis)).cpuS
  for (const child of children) child.send('go')
  const done = await Promise.all(results)
  const redisSeconds = (await readCounters(redis)).cpuS - redisBefore
  const total = done.reduce((sum, r) => sum + r.tasks, 0)
  const ms = Math.max(...done.map((r) => r.ms))
  const commands = done.reduce((sum, r) => sum + r.commands, 0)
  const workerCpuMs = done.reduce((sum, r) => sum + r.cpuMs, 0)
  return {
    tasksPerSec: (total * 1000) / ms,
    roundTrips: commands / total,
    workerCores: workerCpuMs / ms,
    // The workers' 'done' messages arrive a little after their last task: Redis idles meanwhile.
    redisCores: (redisSeconds * 1000) / ms,
  }
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]

async function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name)
    return i === -1 ? fallback : Number(process.argv[i + 1])
  }
  const quick = process.argv.includes('--quick')
  const tasks = arg('--tasks', quick ? 4000 : 20_000)
  const rounds = arg('--rounds', quick ? 1 : 3)
  const at = process.argv.indexOf('--baseline')
  const baseline = at === -1 ? undefined : resolveDist(process.argv[at + 1])
  const contenders = ['volley', ...(baseline ? ['baseline'] : []), 'bottleneck']
  const given = process.argv.indexOf('--redis')
  const privateRedis = given === -1 ? await startPrivateRedis() : undefined
  const redisUrl = privateRedis?.url ?? process.argv[given + 1]
  const { Redis } = await import('ioredis')
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0 })
  const cells = new Map()
  for (let round = 0; round < rounds; round++) {
    // The order rotates each round, so a drifting machine spreads over every contender alike.
    const libs = contenders.map((_, i) => contenders[(i + round) % contenders.length])
    for (const limit of ['rate', 'concurrency', 'calls']) {
      for (const processes of [1, 4]) {
        for (const lib of libs) {
          const count = lib === 'bottleneck' ? Math.round(tasks * BOTTLENECK_SHARE) : tasks
          const result = await measure(redis, redisUrl, lib, limit, processes, count, baseline)
          const id = `${limit} ${lib} ${processes}`
          cells.set(id, [...(cells.get(id) ?? []), result])
          process.stderr.write(`round ${round + 1} ${id}: ${Math.round(result.tasksPerSec)} tasks/s\n`)
        }
      }
    }
  }
  redis.disconnect()
  await privateRedis?.close()
  const lines = [
    `| limit | limiter | processes | tasks/s (median of ${rounds}) | round trips per task | CPU: workers + Redis (cores) |`,
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const [id, results] of cells) {
    const [limit, lib, processes] = id.split(' ')
    const name =
      { volley: 'volley redisStore', baseline: 'volley redisStore (baseline)' }[lib] ?? 'bottleneck (ioredis)'
    const limitName = {
      rate: `${RATE.toLocaleString('en')}/s`,
      concurrency: `concurrency ${CONCURRENCY}`,
      calls: `${RATE.toLocaleString('en')}/s, tasks of ${CALL_MS} ms, ${CALLS_PER_PROCESS} per process`,
    }[limit]
    const cores = (key) => median(results.map((r) => r[key])).toFixed(2)
    lines.push(
      `| ${limitName} | ${name} | ${processes} | ${Math.round(median(results.map((r) => r.tasksPerSec)))} | ${median(results.map((r) => r.roundTrips)).toFixed(2)} | ${cores('workerCores')} + ${cores('redisCores')} |`,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]))
else await main()
