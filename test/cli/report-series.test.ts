import { describe, expect, it } from 'vitest'
import { Buckets, bucketWidth, MAX_BUCKETS, Occupancy } from '../../src/cli/report/html/buckets.js'
import { LatencyHistogram } from '../../src/cli/report/html/histogram.js'
import { attemptsOf } from '../../src/cli/report/html/records.js'
import { ResultsTally } from '../../src/cli/report/html/tally.js'
import { Timeline } from '../../src/cli/report/html/timeline.js'
import { record, T0, timedRecords } from './report-fixture.js'

// The report's arithmetic on small hand-made records: buckets, percentiles, counts.

describe('LatencyHistogram', () => {
  it('gives exact percentiles below 64 ms and the largest value exactly', () => {
    const h = new LatencyHistogram()
    for (let ms = 1; ms <= 60; ms++) h.record(ms)
    expect([h.percentile(50), h.percentile(90), h.percentile(100)]).toEqual([30, 54, 60])
    expect(h.max).toBe(60)
    expect(h.count).toBe(60)
  })

  it('never under-reports a percentile, and over-reports it by at most 2%', () => {
    const h = new LatencyHistogram()
    const values = Array.from({ length: 5000 }, (_, i) => 70 + ((i * 7919) % 30_000))
    for (const v of values) h.record(v)
    const sorted = [...values].sort((a, b) => a - b)
    for (const p of [50, 90, 99, 99.9]) {
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!
      expect(h.percentile(p)).toBeGreaterThanOrEqual(exact)
      expect(h.percentile(p)).toBeLessThanOrEqual(exact * 1.02)
    }
  })

  it('answers 0 when empty and counts a latency past an hour as an hour', () => {
    const h = new LatencyHistogram()
    expect(h.percentile(99)).toBe(0)
    h.record(10 * 3_600_000)
    expect(h.percentile(50)).toBe(3_600_000)
  })
})

describe('time buckets', () => {
  it('picks the narrowest readable width that keeps a span within MAX_BUCKETS, 500 ms at least', () => {
    expect(bucketWidth(20_000)).toBe(500)
    expect(bucketWidth(3_600_000)).toBe(10_000)
    expect(bucketWidth(86_400_000)).toBe(300_000)
    expect(bucketWidth(30 * 86_400_000)).toBe(7_200_000)
    expect(bucketWidth(2000 * 86_400_000)).toBe(4 * 86_400_000)
    for (const span of [1, 999, 250_000, 7_777_777, 123_456_789]) {
      const b = new Buckets({ from: T0 + 123, to: T0 + 123 + span })
      expect(b.count).toBeLessThanOrEqual(MAX_BUCKETS + 1)
      expect(b.of(T0 + 123 + span)).toBe(b.count - 1)
    }
  })

  it('averages the intervals open in each bucket, whole buckets and partial ones', () => {
    const buckets = new Buckets({ from: T0, to: T0 + 2999 }) // three 500 ms buckets... and more
    expect(buckets.width).toBe(500)
    const open = new Occupancy(buckets)
    open.add(T0, T0 + 250) // half of bucket 0
    open.add(T0 + 250, T0 + 1750) // half of 0, all of 1 and 2, half of 3
    open.add(T0 + 2600, T0 + 99_999) // clipped at the span's end: 400 ms of bucket 5
    expect(open.means()).toEqual([1, 1, 1, 0.5, 0, 0.8])
  })
})

describe('Timeline', () => {
  it('counts attempts sent, retries, 429s and answers by class in the buckets where they happened', () => {
    const records = timedRecords(100) // 5 s at 20 starts/s
    const timeline = new Timeline({ from: T0, to: T0 + 5500 })
    for (const r of records) timeline.add(r)
    const s = timeline.series(undefined, 20)
    const total = (values: number[]) => values.reduce((sum, v) => sum + (v * s.widthMs) / 1000, 0)
    expect(s.widthMs).toBe(500)
    expect(total(s.requests)).toBeCloseTo(100)
    // 8 refused then retried (every 10th but the 50th and 100th), 4 timed out twice (every 25th):
    // 112 attempts, 12 retries, 8 refusals.
    expect(total(s.sent)).toBeCloseTo(112)
    expect(total(s.retries)).toBeCloseTo(12)
    expect(total(s.refused)).toBeCloseTo(8)
    expect(total(s.answers['2xx'])).toBeCloseTo(96)
    expect(total(s.answers['429'])).toBeCloseTo(8)
    expect(total(s.answers.errors)).toBeCloseTo(8)
    expect(s.requests.slice(0, 10)).toEqual(Array(10).fill(20))
    expect(s.given).toBe(20)
    expect(s.learned).toBeUndefined()
    expect(s.paused).toBeUndefined()
  })

  it('takes latency percentiles per bucket from the attempts sent in it, null where none was', () => {
    const timeline = new Timeline({ from: T0, to: T0 + 1999 })
    for (const [i, ms] of [10, 20, 30, 40].entries())
      timeline.add(
        record({ index: i + 1, start: T0 + i, tries: [{ at: 0, wait: 0, rate: 0, ms, status: 200 }] }),
      )
    timeline.add(
      record({ index: 5, start: T0 + 1500, tries: [{ at: 0, wait: 0, rate: 0, ms: 7, status: 200 }] }),
    )
    const s = timeline.series(undefined, undefined)
    expect(s.p50).toEqual([20, null, null, 7])
    expect(s.p99).toEqual([40, null, null, 7])
  })

  it('shows time in flight and time waiting at the limiter as mean counts per bucket', () => {
    const timeline = new Timeline({ from: T0, to: T0 + 999 })
    // Waits 250 ms, then in flight 500 ms: bucket 0 holds the wait and 250 ms of flight.
    timeline.add(
      record({ index: 1, start: T0, tries: [{ at: 0, wait: 250, rate: 250, ms: 500, status: 200 }] }),
    )
    const s = timeline.series(undefined, undefined)
    expect(s.waiting).toEqual([0.5, 0])
    expect(s.inFlight).toEqual([0.5, 0.5])
  })

  it('marks the server pauses as a share of each bucket, and the learned limit summed over origins as it changed', () => {
    const timeline = new Timeline({ from: T0, to: T0 + 1999 })
    const live = {
      pauses: [
        { at: T0 + 250, origin: 'http://a', ms: 500, reason: 'retry-after' },
        { at: T0 + 300, origin: 'http://b', ms: 100, reason: 'retry-after' },
      ],
      quotas: [
        { at: T0 + 100, origin: 'http://a', rates: [{ limit: 40, interval: 1000 }] },
        {
          at: T0 + 1200,
          origin: 'http://b',
          rates: [
            { limit: 600, interval: 60_000 },
            { limit: 9000, interval: 60_000, unit: 'tokens' },
          ],
        },
      ],
    }
    const s = timeline.series(live, undefined)
    expect(s.paused).toEqual([0.7, 0.5, 0, 0])
    expect(s.learned).toEqual([40, 40, 50, 50])
  })
})

describe('ResultsTally', () => {
  it('counts results by status (or error code), attempts, retries and 429s, and spans the first start to the last answer', () => {
    const tally = new ResultsTally()
    for (const r of timedRecords(100)) tally.add(r)
    const f = tally.figures()
    expect(f).toMatchObject({ total: 100, ok: 96, failed: 4, attempts: 112, retries: 12, rateLimited: 8 })
    expect(f.statuses).toEqual({ 200: 96, TIMEOUT: 4 })
    // The last request (index 100) starts at T0 + 4950 and times out twice: its second try ends 255 ms later.
    expect(tally.span()).toEqual({ from: T0, to: T0 + 4950 + 150 + 5 + 100 })
    expect(f.latency.of).toBe('attempts')
    expect(f.latency.max).toBe(100)
  })

  it('groups errors by code, most frequent first, with three examples each, redacting the given secrets again', () => {
    const tally = new ResultsTally(['s3cr3t-value'])
    const failed = (index: number, code: string, message: string) =>
      record({ index, ok: false, status: null, error: { code, message } })
    for (let i = 1; i <= 5; i++) tally.add(failed(i, 'NETWORK', `socket hang up (key s3cr3t-value) #${i}`))
    tally.add(failed(6, 'TIMEOUT', 'timed out'))
    const groups = tally.errors()
    expect(groups.map((g) => [g.code, g.count])).toEqual([
      ['NETWORK', 5],
      ['TIMEOUT', 1],
    ])
    expect(groups[0]!.examples).toHaveLength(3)
    expect(groups[0]!.examples[0]).toEqual({ id: 1, index: 1, message: 'socket hang up (key [REDACTED]) #1' })
  })

  it('keeps the page small whatever the file holds: long messages cut after redaction, codes past 40 and statuses past 200 pooled', () => {
    const tally = new ResultsTally(['s3cr3t-value'])
    const long = `${'x'.repeat(295)}s3cr3t-value${'y'.repeat(5000)}`
    tally.add(record({ index: 1, ok: false, status: null, error: { code: 'E0', message: long } }))
    for (let i = 1; i < 60; i++)
      tally.add(record({ index: i + 1, ok: false, status: 1000 + i, error: { code: `E${i}`, message: 'm' } }))
    for (let i = 0; i < 300; i++) tally.add(record({ index: 100 + i, status: 2000 + i }))
    const groups = tally.errors()
    expect(groups).toHaveLength(41)
    expect(groups.find((g) => g.code === 'OTHER')!.count).toBe(20)
    expect(groups.find((g) => g.code === 'E0')!.examples[0]!.message).toBe(`${'x'.repeat(295)}[REDA…`)
    const statuses = tally.figures().statuses
    expect(Object.keys(statuses)).toHaveLength(201)
    expect(statuses.OTHER).toBe(360 - 200)
  })

  it('loads records of an older volley (no start, no tries): no span, latency from each request', () => {
    const tally = new ResultsTally()
    tally.add(record({ index: 1, ms: 120 }))
    tally.add(
      record({ index: 2, ms: 80, status: 429, ok: false, error: { code: 'RATE_LIMITED', message: '429' } }),
    )
    expect(tally.span()).toBeUndefined()
    expect(tally.figures()).toMatchObject({
      total: 2,
      withoutStart: 2,
      rateLimited: 1,
      durationMs: undefined,
      // Above 64 ms, a bin's top (80 is in the bin 80-81): within 2%, never under.
      latency: { p50: 81, max: 120, of: 'requests' },
    })
  })

  it('treats a record with a start but no tries as one attempt from its start lasting its ms', () => {
    const r = record({ index: 1, start: T0, ms: 40, status: 503, ok: false })
    expect(attemptsOf(r)).toEqual([{ at: T0, wait: 0, rate: 0, ms: 40, status: 503, error: undefined }])
    expect(attemptsOf(record({ index: 2 }))).toBeUndefined()
  })
})
