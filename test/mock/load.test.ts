import { Pool } from 'undici'
import { describe, expect, test } from 'vitest'
import { createChoices } from '../../src/mock/choices.js'
import { type MockServerOptions, startMockServer } from '../../src/mock/index.js'
import { resolveMockOptions } from '../../src/mock/options.js'
import { testTls } from '../fixtures/tls.js'
import { retainedHeap } from '../support/memory.js'

/**
 * Each test runs over HTTP/1.1 (`connections` sockets) and over HTTP/2 with TLS (one session
 * carrying up to `connections` streams), so every fault and count is checked on both protocols.
 */
const protocols = [
  {
    name: 'HTTP/1.1',
    server: {},
    pool: (url: string, connections: number, options: Pool.Options = {}) =>
      new Pool(url, { ...options, connections }),
  },
  {
    name: 'HTTP/2 over TLS',
    server: { tls: testTls, http2: true },
    pool: (url: string, connections: number, options: Pool.Options = {}) =>
      new Pool(url, {
        ...options,
        connections: 1,
        pipelining: connections,
        allowH2: true,
        connect: { ca: testTls.cert },
      }),
  },
]

/**
 * Runs requests `from` up to `to` through `workers` loops, each awaiting its own; returns the
 * status each saw, or 'error' (kept that small so that the test's own records do not weigh on the
 * heap it measures).
 */
async function drive(
  [from, to]: [number, number],
  workers: number,
  send: (index: number) => Promise<number>,
): Promise<(number | 'error')[]> {
  const outcomes: (number | 'error')[] = new Array(to - from)
  let next = from
  const worker = async () => {
    while (next < to) {
      const index = next++
      outcomes[index - from] = await send(index).catch(() => 'error' as const)
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return outcomes
}

describe.each(protocols)('mock under load, $name', (protocol) => {
  test('stats are exact under a few thousand concurrent requests', async () => {
    // A millisecond of latency makes requests overlap on the server, as they would on a real API.
    await using server = await startMockServer({ ...protocol.server, latency: 1 })
    const pool = protocol.pool(server.url, 50)
    const total = 2400
    const outcomes = await drive([0, total], 50, async (i) => {
      const kind = i % 3
      const res = await pool.request(
        kind === 0
          ? { path: '/json', method: 'GET' }
          : kind === 1
            ? { path: `/items/${i}`, method: 'GET' }
            : {
                path: '/anything',
                method: 'POST',
                headers: { 'content-type': 'application/json', 'idempotency-key': `key-${i}` },
                body: JSON.stringify({ i }),
              },
      )
      await res.body.dump()
      return res.statusCode
    })
    await pool.close()
    expect(outcomes.every((status) => status === 200)).toBe(true)
    const stats = server.stats()
    expect(stats.requests).toBe(total)
    expect(stats.byStatus).toEqual({ 200: total })
    expect(stats.byPath).toEqual({ '/json': 800, '/items/:id': 800, '/anything': 800 })
    expect(Object.keys(stats.idempotencyKeys)).toHaveLength(800)
    expect(Object.values(stats.idempotencyKeys).every((seen) => seen === 1)).toBe(true)
    expect(stats.maxInFlight).toBeGreaterThan(1)
    expect(stats.maxInFlight).toBeLessThanOrEqual(50)
    expect(stats.connections).toBeLessThanOrEqual(50)
    expect(stats).toMatchObject({ inFlight: 0, aborted: 0, maxWindowArrivals: stats.maxWindowAdmitted })
    await expect.poll(() => server.stats().openConnections, { timeout: 5000 }).toBe(0)
  })

  test('survives 10,000 requests with every fault enabled without growing its heap, then closes with hung requests open', async () => {
    const options: MockServerOptions = {
      faults: {
        '500': 0.02,
        '502': 0.02,
        '503': 0.02,
        '429': 0.02,
        reset: 0.02,
        hang: 0.003,
        malformed: 0.02,
      },
      seed: 2024,
    }
    const server = await startMockServer({ ...options, ...protocol.server })
    const pool = protocol.pool(server.url, 50, { headersTimeout: 1000, bodyTimeout: 1000 })
    const total = 10_000
    const send = async (i: number) => {
      const res = await pool.request(
        i % 2 === 0
          ? { path: `/items/${i}`, method: 'GET' }
          : {
              path: '/batch/geocode',
              method: 'POST',
              body: JSON.stringify({ addresses: [`${i} Main St`] }),
              // Geocoding is idempotent: without this undici runs a POST on an idle HTTP/2 session only.
              idempotent: true,
            },
      )
      await res.body.text()
      return res.statusCode
    }
    // The second half runs on a warm server: whatever the heap keeps of it is a per-request leak.
    const first = await drive([0, total / 2], 50, send)
    const warm = retainedHeap()
    const second = await drive([total / 2, total], 50, send)
    const grown = retainedHeap() - warm
    const outcomes = [...first, ...second]
    await pool.close()
    // 5,000 requests: a leak of 100 bytes each would show; the outcomes array itself is ~40 kB.
    expect(grown).toBeLessThan(500_000)

    // Each admitted request draws once, in arrival order, so the fault totals are the seed's.
    const choices = createChoices(resolveMockOptions(options).faults, { min: 0, max: 0 }, 2024)
    const expected = new Map<string, number>()
    for (let i = 0; i < total; i++) {
      const kind = choices.fault() ?? 'none'
      expected.set(kind, (expected.get(kind) ?? 0) + 1)
    }
    await expect.poll(() => server.stats().inFlight, { timeout: 5000 }).toBe(0)
    const stats = server.stats()
    expect(stats.requests).toBe(total)
    expect(stats.resets).toBe(expected.get('reset'))
    expect(stats.hangs).toBe(expected.get('hang'))
    expect(stats.malformed).toBe(expected.get('malformed'))
    for (const status of ['500', '502', '503', '429'])
      expect(stats.byStatus[status]).toBe(expected.get(status))
    // Every request ended exactly one way: a status, a reset, or its client giving up.
    const answered = Object.values(stats.byStatus).reduce((sum, n) => sum + n, 0)
    expect(answered + stats.resets + stats.aborted).toBe(total)
    expect(stats.aborted).toBeGreaterThanOrEqual(stats.hangs)
    const clientErrors = outcomes.filter((outcome) => outcome === 'error').length
    expect(clientErrors).toBeGreaterThanOrEqual(stats.resets + stats.hangs)
    // A reset ends one request: over HTTP/1.1 with its connection, over HTTP/2 only its stream.
    if (protocol.server.http2) expect(stats.connections).toBe(1)
    else expect(stats.connections).toBeGreaterThan(stats.resets)
    await expect.poll(() => server.stats().openConnections, { timeout: 5000 }).toBe(0)

    // Hung requests with no client timeout must not hold close() up.
    const hungPool = protocol.pool(server.url, 5)
    const hung = Array.from({ length: 5 }, () =>
      hungPool
        .request({ path: '/json', method: 'GET', headers: { 'x-mock-fault': 'hang' } })
        .catch((error: Error) => error),
    )
    await expect.poll(() => server.stats().inFlight, { timeout: 5000 }).toBe(5)
    let timer: NodeJS.Timeout | undefined
    // Without closing hung sockets, close() would never resolve; 5 s only catches "never".
    const closed = await Promise.race([
      server.close().then(() => 'closed'),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still open'), 5000)
      }),
    ])
    clearTimeout(timer)
    expect(closed).toBe('closed')
    expect((await Promise.all(hung)).every((outcome) => outcome instanceof Error)).toBe(true)
    expect(server.stats()).toMatchObject({ openConnections: 0, inFlight: 0 })
    await hungPool.close()
  })
})
