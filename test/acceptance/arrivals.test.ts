import { describe, expect, test, type TestContext } from 'vitest'
import { createClient } from '../../src/http/client.js'
import type { ClientOptions } from '../../src/index.js'
import { testTls } from '../fixtures/tls.js'
import { maxInWindow } from '../support/clock.js'
import { type ExactServer, quotaUse, startConnectDelayProxy, startExactServer } from '../support/far-api.js'
import { eventually } from '../http/helpers.js'

/**
 * The acceptance test of issue 11 ("the rate holds at the server, by default"). It does not pass
 * yet, so it is not part of `npm test`: run it with `npm run test:acceptance`.
 *
 * A client told N per window, judged where the API counts: the arrivals at a server that enforces N
 * per sliding window exactly (429 + Retry-After beyond it), behind a proxy that holds each new
 * connection 150 ms like a far API's handshake. Real time, since arrivals are the point; every
 * assertion is on what the server saw (counts, windows), none on how long the run took.
 */

const CONNECT_DELAY_MS = 150
/** A client honouring its rate wastes little of it: a 50 ms margin per second costs 4.8%. */
const MIN_QUOTA_USE = 0.95

interface Job {
  limit: number
  windowMs: number
  gets: number
  client: ClientOptions
  /** https through the proxy: the client's handshake waits out the delay (see startConnectDelayProxy). */
  tls?: boolean
  /** Between two halves of the job, the server closes its idle keep-alive connections. */
  reconnect?: boolean
}

/** Runs the job's GETs through the proxy; records what the server saw as an annotation, for comparing runs. */
async function serve(context: TestContext, job: Job) {
  const { limit, windowMs, gets } = job
  await using server = await startExactServer({ limit, windowMs, ...(job.tls ? { tls: testTls } : {}) })
  await using proxy = await startConnectDelayProxy({ target: server.url, connectDelayMs: CONNECT_DELAY_MS })
  await using api = createClient({
    ...job.client,
    baseUrl: proxy.url,
    rate: { limit, interval: windowMs },
    ...(job.tls ? { tls: { ca: testTls.cert } } : {}),
  })
  const paths = Array.from({ length: gets }, (_, i) => `/items/${i}`)
  if (job.reconnect) {
    await api.all(paths.slice(0, gets / 2))
    await shedIdle(server, () => proxy.open())
    await api.all(paths.slice(gets / 2))
  } else {
    await api.all(paths)
  }
  const stats = server.stats()
  const first = stats.acceptedTimes[0]!
  const judged = {
    accepted: stats.acceptedTimes.length,
    refused: stats.refused,
    maxInWindow: stats.maxInWindow,
    // What the client sent, refused arrivals included: how far over the limit it went.
    maxSentInWindow: maxInWindow(
      stats.arrivals.map((a) => a.at),
      windowMs,
    ),
    quotaUse: quotaUse(stats.acceptedTimes, limit, windowMs, first + windowMs),
  }
  context.annotate(
    `refused ${judged.refused}, accepted ${judged.accepted}, maxInWindow ${judged.maxInWindow} ` +
      `(sent ${judged.maxSentInWindow}) per ${windowMs} ms, quota use ${(judged.quotaUse * 100).toFixed(1)}%`,
  )
  return judged
}

/** Closes the server's idle connections and waits until the proxy has passed the close on. */
async function shedIdle(server: ExactServer, open: () => number): Promise<void> {
  server.closeIdleConnections()
  expect(await eventually(() => open() === 0)).toBe(true)
}

describe('a client told N/s, against a far API that counts arrivals exactly', () => {
  const job = { limit: 20, windowMs: 1000, gets: 100 }

  test.for([
    { concurrency: 4, smooth: false },
    { concurrency: 8, smooth: false },
    { concurrency: 4, smooth: true },
    { concurrency: 8, smooth: true },
  ])(
    '20/s, concurrency $concurrency, smooth $smooth: no refusal, and at least 95% of the quota after the first window',
    async (client, context) => {
      const judged = await serve(context, { ...job, client })
      expect(judged.refused).toBe(0)
      expect(judged.accepted).toBe(job.gets)
      expect(judged.quotaUse).toBeGreaterThanOrEqual(MIN_QUOTA_USE)
    },
  )

  test.for([{ smooth: false }, { smooth: true }])(
    'the server closing idle connections mid-run (smooth $smooth): the reconnections draw no refusal',
    async ({ smooth }, context) => {
      const judged = await serve(context, { ...job, client: { concurrency: 4, smooth }, reconnect: true })
      expect(judged.refused).toBe(0)
      expect(judged.accepted).toBe(job.gets)
    },
  )

  test('over https, where the handshake itself is slow: no refusal, and at least 95% of the quota', async (context) => {
    const judged = await serve(context, { ...job, client: { concurrency: 4 }, tls: true })
    expect(judged.refused).toBe(0)
    expect(judged.accepted).toBe(job.gets)
    expect(judged.quotaUse).toBeGreaterThanOrEqual(MIN_QUOTA_USE)
  })

  // A quota per 10 s (100/10s) at full size takes 30 s or more; scaled to 30 per 3 s, the same three
  // windows and a short connect delay relative to the window take under 10 s.
  test('a longer window, scaled (30 per 3 s, 90 GETs): no refusal, and at least 95% of the quota', async (context) => {
    const judged = await serve(context, { limit: 30, windowMs: 3000, gets: 90, client: { concurrency: 4 } })
    expect(judged.refused).toBe(0)
    expect(judged.accepted).toBe(90)
    expect(judged.quotaUse).toBeGreaterThanOrEqual(MIN_QUOTA_USE)
  })

  // `rateMargin: 0`, the documented opt-out of the new default margin, is not specified yet: does it
  // drop only the margin (arrivals still counted from a connected socket, so still no refusal), or
  // every allowance, so that refusals are expected and only the client-side windows hold?
  test.todo(
    "with rateMargin: 0 explicitly (opting out of the default margin): what the server sees matches the opt-out's documented promise",
  )
})
