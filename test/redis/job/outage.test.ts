import { createServer, type Server, type Socket, connect } from 'node:net'
import { expect, it } from 'vitest'
import { collectJob, jobStatus, submitJob, workJob } from '../../../src/redis/index.js'
import { REDIS_URL, redisPrefix } from '../helpers.js'

const { prefix } = redisPrefix()

/** A TCP proxy to Redis that can be cut (every connection dropped, new ones refused) and restored. */
async function redisProxy() {
  const target = new URL(REDIS_URL)
  const sockets = new Set<Socket>()
  let open = true
  const server: Server = createServer((client) => {
    if (!open) return client.destroy()
    const upstream = connect(Number(target.port || 6379), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false
      for (const s of sockets) s.destroy()
    },
    restore() {
      open = true
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

it('Redis away mid-job: the worker starts nothing, keeps its results, and goes on when Redis is back', async () => {
  const job = { job: 'outage', prefix }
  await submitJob({ ...job, url: REDIS_URL, lines: Array.from({ length: 300 }, (_, i) => `line ${i + 1}`) })
  const proxy = await redisProxy()
  const events: string[] = []
  let cut = false
  let startedWhileCut = 0
  let startedInOutage = 0
  let handled = 0
  const working = workJob({
    ...job,
    url: proxy.url,
    commandTimeout: 500,
    concurrency: 4,
    handle: async ({ line }) => {
      if (cut) startedWhileCut++
      if (events.at(-1) === 'outage') startedInOutage++
      if (++handled === 100) {
        cut = true
        proxy.cut()
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
      return { ok: true, result: `r${line}` }
    },
    on: {
      outage: () => events.push('outage'),
      back: () => events.push('back'),
    },
  })
  await expect.poll(() => events, { timeout: 10_000 }).toContain('outage')
  // Lines in hand when Redis went away finish; nothing new starts while it is away.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const handledWhileAway = handled
  // Before the outage is noticed, only lines already claimed (at most 2 × concurrency) may start; after it, none.
  expect(startedWhileCut).toBeLessThanOrEqual(8)
  expect(startedInOutage).toBe(0)
  cut = false
  proxy.restore()
  const outcome = await working
  await proxy.close()
  expect(events).toEqual(['outage', 'back'])
  expect(outcome).toMatchObject({ complete: true, done: 300, duplicates: 0, unrecorded: 0 })
  expect(handledWhileAway).toBeLessThan(300)
  const lines: number[] = []
  for await (const { line, result } of collectJob({ ...job, url: REDIS_URL })) {
    expect(result).toBe(`r${line}`)
    lines.push(line)
  }
  expect(lines).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
  expect(await jobStatus({ ...job, url: REDIS_URL })).toMatchObject({ done: 300, duplicates: 0 })
}, 30_000)
