// Tasks per second through a Redis-backed shared limiter, from 1 and from 4 processes, and Redis
// round trips per task: volley's redisStore against bottleneck's Redis clustering (ioredis), in the
// same run, against the same Redis. Tasks are empty: this measures the limiter's cost, not an API.
//
//   npm run build && node bench/redis-throughput.js [--tasks 4000] [--rounds 3]
//
// Each measurement runs in fresh processes; contenders alternate, and each cell is the median of
// the rounds. Round trips are commands sent by the limiter's own ioredis client (counted in the
// client), so pub/sub deliveries and script loading on first use are the only things not counted.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { importVolley } from './lib/volley.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const CONCURRENCY = 32

async function worker({ lib, key, tasks, processes }) {
  const { Redis } = await import('ioredis')
  // Counts every command this process's limiter sends: one command = one round trip.
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 })
  let commands = 0
  const send = client.sendCommand.bind(client)
  client.sendCommand = (command, stream) => {
    commands++
    return send(command, stream)
  }
  let schedule
  let close
  if (lib === 'volley') {
    const { redisStore } = await importVolley('redis/index.js')
    const { createLimiter } = await importVolley('limit/limiter.js')
    const store = redisStore({ client })
    // Concurrency shared by all processes, and a rate high enough never to bind: both scripts run.
    const limiter = createLimiter({ store, key, concurrency: CONCURRENCY, rate: '1000000/s' })
    schedule = (fn) => limiter.run(fn)
    close = async () => {
      await limiter.close()
      await store.close()
    }
  } else {
    const { default: Bottleneck } = await import('bottleneck')
    const connection = new Bottleneck.IORedisConnection({ client })
    const limiter = new Bottleneck({ id: key, datastore: 'ioredis', connection, maxConcurrent: CONCURRENCY })
    await limiter.ready()
    schedule = (fn) => limiter.schedule(fn)
    close = async () => {
      await limiter.disconnect(false)
    }
  }
  process.send({ type: 'ready' })
  await new Promise((resolve) => process.once('message', resolve))
  const before = commands
  const start = performance.now()
  // Keep twice the shared concurrency queued in this process, like a busy worker.
  let next = 0
  let done = 0
  const per = Math.ceil(tasks / processes)
  await new Promise((resolve) => {
    const launch = () => {
      while (next < per && next - done < (2 * CONCURRENCY) / processes + 1) {
        next++
        schedule(async () => {}).then(() => {
          done++
          if (done === per) resolve()
          else launch()
        })
      }
    }
    launch()
  })
  const ms = performance.now() - start
  const sent = commands - before
  await close()
  client.disconnect()
  // Exit once the figures are delivered: bottleneck keeps timers alive after disconnect().
  process.send({ type: 'done', tasks: per, ms, commands: sent }, () => process.exit(0))
}

async function measure(lib, processes, tasks) {
  const key = `bench-${randomBytes(4).toString('hex')}`
  const script = fileURLToPath(import.meta.url)
  const children = Array.from({ length: processes }, () =>
    fork(script, ['--worker', JSON.stringify({ lib, key, tasks, processes })]),
  )
  const message = (child, type) =>
    new Promise((resolve, reject) => {
      child.on('message', (m) => m.type === type && resolve(m))
      child.once('exit', (code) => code !== 0 && reject(new Error(`${lib} worker exited ${code}`)))
    })
  await Promise.all(children.map((child) => message(child, 'ready')))
  const results = children.map((child) => message(child, 'done'))
  for (const child of children) child.send('go')
  const done = await Promise.all(results)
  const total = done.reduce((sum, r) => sum + r.tasks, 0)
  const ms = Math.max(...done.map((r) => r.ms))
  const commands = done.reduce((sum, r) => sum + r.commands, 0)
  return { tasksPerSec: (total * 1000) / ms, roundTrips: commands / total }
}

const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]

async function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name)
    return i === -1 ? fallback : Number(process.argv[i + 1])
  }
  const tasks = arg('--tasks', 4000)
  const rounds = arg('--rounds', 3)
  const cells = new Map()
  for (let round = 0; round < rounds; round++) {
    const libs = round % 2 === 0 ? ['volley', 'bottleneck'] : ['bottleneck', 'volley']
    for (const processes of [1, 4]) {
      for (const lib of libs) {
        const result = await measure(lib, processes, tasks)
        const id = `${lib} ${processes}`
        cells.set(id, [...(cells.get(id) ?? []), result])
        process.stderr.write(`round ${round + 1} ${id}: ${Math.round(result.tasksPerSec)} tasks/s\n`)
      }
    }
  }
  const lines = [
    `| limiter | processes | tasks/s (median of ${rounds}) | round trips per task |`,
    '| --- | --- | --- | --- |',
  ]
  for (const [id, results] of cells) {
    const [lib, processes] = id.split(' ')
    const name = lib === 'volley' ? 'volley redisStore' : 'bottleneck (ioredis)'
    lines.push(
      `| ${name} | ${processes} | ${Math.round(median(results.map((r) => r.tasksPerSec)))} | ${median(results.map((r) => r.roundTrips)).toFixed(2)} |`,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]))
else await main()
