import { describe, expect, test } from 'vitest'
import { ServerRateLimit } from '../../src/mock/rate-limit.js'
import { TimeDeque } from '../../src/mock/time-deque.js'
import { RateWindow, WindowPeak } from '../../src/mock/windows.js'
import { JobStore } from '../../src/mock/jobs.js'

describe('TimeDeque', () => {
  test('keeps times in order across growth and drops through a cutoff', () => {
    const deque = new TimeDeque()
    for (let t = 0; t < 100; t++) deque.push(t)
    deque.dropThrough(49.5)
    expect(deque.size).toBe(50)
    expect(deque.oldest()).toBe(50)
    for (let t = 100; t < 200; t++) deque.push(t)
    deque.dropThrough(149)
    expect(deque.oldest()).toBe(150)
    expect(deque.size).toBe(50)
  })
})

describe('RateWindow', () => {
  test('admits `limit` starts, then none until the oldest is a full interval old', () => {
    const window = new RateWindow({ limit: 3, interval: 1000 })
    for (const t of [0, 10, 20]) {
      expect(window.remaining(t)).toBeGreaterThan(0)
      window.record(t)
    }
    expect(window.remaining(999)).toBe(0)
    expect(window.nextFreeIn(999)).toBe(1)
    // The window is half-open: at exactly 1000 the start at 0 no longer counts.
    expect(window.remaining(1000)).toBe(1)
    expect(window.nextFreeIn(1000)).toBe(10)
  })

  test('reports 0 until free when nothing is counted', () => {
    const window = new RateWindow({ limit: 2, interval: 500 })
    expect(window.nextFreeIn(123)).toBe(0)
    expect(window.remaining(123)).toBe(2)
  })

  test('never admits more than `limit` in any interval, whatever the arrival pattern', () => {
    const window = new RateWindow({ limit: 5, interval: 100 })
    const admitted: number[] = []
    // Arrivals every 7 ms for a while, with bursts on top.
    for (let t = 0; t < 2000; t += 7) {
      for (let burst = 0; burst < (t % 70 === 0 ? 4 : 1); burst++) {
        if (window.remaining(t) > 0) {
          window.record(t)
          admitted.push(t)
        }
      }
    }
    for (let i = 5; i < admitted.length; i++)
      expect(admitted[i]! - admitted[i - 5]!).toBeGreaterThanOrEqual(100)
    expect(admitted.length).toBeGreaterThan(90)
  })
})

describe('WindowPeak', () => {
  test('finds the most events in any half-open window, across window edges', () => {
    const peak = new WindowPeak(1000)
    // 3 late in one second and 3 early in the next: a fixed bucket would see 3, a sliding window 6.
    for (const t of [900, 950, 990, 1000, 1050, 1100]) peak.record(t)
    expect(peak.peak).toBe(6)
    peak.record(1900) // 900 is out: (900, 1900] holds 950..1900
    expect(peak.peak).toBe(6)
    peak.record(1950)
    expect(peak.peak).toBe(6)
  })

  test('does not count events exactly one window apart together', () => {
    const peak = new WindowPeak(100)
    for (const t of [0, 100, 200, 300]) peak.record(t)
    expect(peak.peak).toBe(1)
    peak.reset()
    for (const t of [0, 99.5]) peak.record(t)
    expect(peak.peak).toBe(2)
  })
})

describe('ServerRateLimit', () => {
  const epoch = 1_800_000_000_000

  test('admits up to the limit with quota headers, remaining counting down', () => {
    const limit = new ServerRateLimit([{ limit: 3, interval: 2000 }])
    const remaining = [0, 100, 200].map((t) => {
      const verdict = limit.admit(t, epoch + t)
      expect(verdict.admitted).toBe(true)
      expect(verdict.headers['ratelimit-policy']).toBe('"default";q=3;w=2')
      expect(verdict.headers['retry-after']).toBeUndefined()
      return verdict.headers['x-ratelimit-remaining']
    })
    expect(remaining).toEqual(['2', '1', '0'])
  })

  test('refuses past the limit with Retry-After rounded up and the reset time as epoch seconds', () => {
    const limit = new ServerRateLimit([{ limit: 2, interval: 2000 }])
    limit.admit(0, epoch)
    limit.admit(300, epoch + 300)
    const refused = limit.admit(500, epoch + 500)
    expect(refused.admitted).toBe(false)
    // The start at 0 frees at 2000: 1500 ms away, so 2 whole seconds.
    expect(refused.headers['retry-after']).toBe('2')
    expect(refused.headers.ratelimit).toBe('"default";r=0;t=2')
    expect(refused.headers['x-ratelimit-remaining']).toBe('0')
    expect(refused.headers['x-ratelimit-reset']).toBe(String(Math.ceil((epoch + 2000) / 1000)))
  })

  test('does not count refused requests, so the next start frees on schedule', () => {
    const limit = new ServerRateLimit([{ limit: 1, interval: 1000 }])
    expect(limit.admit(0, epoch).admitted).toBe(true)
    for (let t = 10; t < 1000; t += 10) expect(limit.admit(t, epoch + t).admitted).toBe(false)
    expect(limit.admit(1000, epoch + 1000).admitted).toBe(true)
  })

  test('gives Retry-After of at least 1 second even when a start frees sooner', () => {
    const limit = new ServerRateLimit([{ limit: 1, interval: 250 }])
    limit.admit(0, epoch)
    const refused = limit.admit(240, epoch + 240)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.headers['ratelimit-policy']).toBe('"default";q=1;w=0.25')
  })

  test('with several rates, every one must hold and the tightest speaks for X-RateLimit', () => {
    const limit = new ServerRateLimit([
      { limit: 5, interval: 1000 },
      { limit: 2, interval: 10_000 },
    ])
    expect(limit.admit(0, epoch).headers['x-ratelimit-limit']).toBe('2')
    const second = limit.admit(10, epoch + 10)
    expect(second.headers.ratelimit).toBe('"default";r=3;t=1, "rate1";r=0;t=10')
    const refused = limit.admit(20, epoch + 20)
    expect(refused.admitted).toBe(false)
    expect(refused.headers['retry-after']).toBe('10')
    expect(refused.headers['ratelimit-policy']).toBe('"default";q=5;w=1, "rate1";q=2;w=10')
  })
})

describe('JobStore', () => {
  test('a job is pending until its duration has passed, then done with a result per item', () => {
    const jobs = new JobStore(500)
    const id = jobs.submit(['x', 'y'], 1000)
    expect(jobs.view(id, 1499)).toEqual({ id, status: 'pending' })
    const done = jobs.view(id, 1500)
    expect(done?.status).toBe('done')
    expect(done?.status === 'done' && done.results.map((r) => r.item)).toEqual(['x', 'y'])
    expect(jobs.view('job-404', 2000)).toBeUndefined()
  })
})
