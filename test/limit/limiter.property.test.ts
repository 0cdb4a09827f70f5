import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createManualClock } from '../../src/limit/clock.js'
import { createLimiter } from '../../src/limit/limiter.js'
import { paceSpacing } from '../../src/limit/pace.js'
import { maxInWindow, paceExcess, sleep } from '../support/clock.js'

const rateArb = fc.record({
  limit: fc.integer({ min: 1, max: 6 }),
  interval: fc.integer({ min: 5, max: 300 }),
})

const taskArb = fc.record({
  arrival: fc.integer({ min: 0, max: 1000 }),
  duration: fc.integer({ min: 0, max: 80 }),
  cost: fc.integer({ min: 1, max: 3 }),
  priority: fc.integer({ min: -1, max: 1 }),
  abortAfter: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined, freq: 4 }),
})

/** The margin and pacing options: rateMargin in ms, smooth on or off. */
const politenessArb = fc.record({ rateMargin: fc.integer({ min: 0, max: 30 }), smooth: fc.boolean() })

const pauseArb = fc.record({ at: fc.integer({ min: 0, max: 1000 }), ms: fc.integer({ min: 1, max: 300 }) })

describe('Limiter properties (manual clock)', () => {
  it('never runs more than `concurrency` tasks, and runs every task', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(taskArb, { minLength: 1, maxLength: 40 }),
        async (concurrency, tasks) => {
          const clock = createManualClock()
          const limiter = createLimiter({ concurrency, clock })
          let running = 0
          let most = 0
          let finished = 0
          for (const task of tasks) {
            clock.setTimer(() => {
              void limiter.run(async () => {
                running++
                most = Math.max(most, running)
                await sleep(clock, task.duration)
                running--
                finished++
              })
            }, task.arrival)
          }
          await clock.advance(1000 + 80 * tasks.length + 1)
          expect(most).toBeLessThanOrEqual(concurrency)
          expect(finished).toBe(tasks.length)
          expect(clock.pendingTimers()).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('never puts more than N starts (counting cost) in any window of every rate plus margin, paced when smooth, through pauses and aborts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rateArb, { minLength: 1, maxLength: 3 }),
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        fc.array(taskArb, { minLength: 1, maxLength: 40 }),
        fc.array(pauseArb, { maxLength: 3 }),
        politenessArb,
        async (rates, concurrency, tasks, pauses, { rateMargin, smooth }) => {
          const clock = createManualClock()
          const limiter = createLimiter({ rate: rates, concurrency, clock, rateMargin, smooth })
          const smallestLimit = Math.min(...rates.map((rate) => rate.limit))
          const starts: { at: number; cost: number }[] = []
          const paused: { from: number; to: number }[] = []
          let settled = 0
          let abortedWhileQueued = 0
          for (const pause of pauses) {
            clock.setTimer(() => {
              paused.push({ from: clock.now(), to: clock.now() + pause.ms })
              void limiter.pause(pause.ms)
            }, pause.at)
          }
          for (const task of tasks) {
            const cost = Math.min(task.cost, smallestLimit)
            clock.setTimer(() => {
              const controller = new AbortController()
              if (task.abortAfter !== undefined) clock.setTimer(() => controller.abort(), task.abortAfter)
              limiter
                .run(
                  async () => {
                    starts.push({ at: clock.now(), cost })
                    await sleep(clock, task.duration)
                  },
                  { cost, priority: task.priority, signal: controller.signal },
                )
                .then(
                  () => settled++,
                  (error: { code?: string }) => {
                    expect(error.code).toBe('ABORTED')
                    abortedWhileQueued++
                    settled++
                  },
                )
            }, task.arrival)
          }
          const longestInterval = Math.max(...rates.map((rate) => rate.interval))
          await clock.advance(2000 + tasks.length * ((longestInterval + rateMargin) * 3 + 80))

          // Every task settled exactly once: it ran, or it was aborted while queued.
          expect(settled).toBe(tasks.length)
          expect(starts.length + abortedWhileQueued).toBe(tasks.length)
          // Expand costs into individual starts, then check each rate's sliding windows.
          const expanded = starts.flatMap((start) => Array<number>(start.cost).fill(start.at))
          for (const rate of rates) {
            expect(maxInWindow(expanded, rate.interval + rateMargin)).toBeLessThanOrEqual(rate.limit)
            // Under 1: no two paced starts at once, through pauses, aborts and costs.
            if (smooth) expect(paceExcess(starts, paceSpacing(rate, rateMargin))).toBeLessThan(1)
          }
          for (const start of starts) {
            for (const pause of paused) expect(start.at >= pause.from && start.at < pause.to).toBe(false)
          }
          expect(clock.pendingTimers()).toBe(0)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('achieves at least 98% of N/(T + margin) over a long saturated run, paced or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        rateArb,
        fc.integer({ min: 5, max: 40 }),
        politenessArb,
        async (rate, windows, politeness) => {
          const clock = createManualClock()
          const limiter = createLimiter({ rate, clock, ...politeness })
          const starts: number[] = []
          const total = rate.limit * (windows + 2)
          for (let i = 0; i < total; i++) limiter.run(() => starts.push(clock.now())).catch(() => {})
          const window = rate.interval + politeness.rateMargin
          const span = window * windows
          await clock.advance(span - 1)
          const achieved = starts.filter((at) => at < span).length
          expect(achieved).toBeGreaterThanOrEqual(0.98 * rate.limit * windows)
          expect(maxInWindow(starts, window)).toBeLessThanOrEqual(rate.limit)
          // Paced: never two starts closer than the spacing (the manual clock is never late).
          if (politeness.smooth) {
            const unitStarts = starts.map((at) => ({ at, cost: 1 }))
            expect(paceExcess(unitStarts, paceSpacing(rate, politeness.rateMargin))).toBeLessThanOrEqual(1e-6)
          }
          await limiter.close()
        },
      ),
      { numRuns: 100 },
    )
  })
})

/** The most weight any half-open window [t, t + width) holds (starts in time order). */
function maxWeightInWindow(starts: readonly { at: number; weight: number }[], width: number): number {
  let most = 0
  let sum = 0
  let first = 0
  for (const start of starts) {
    sum += start.weight
    while (starts[first]!.at <= start.at - width) sum -= starts[first++]!.weight
    most = Math.max(most, sum)
  }
  return most
}

describe('Limiter budgets in several units (manual clock)', () => {
  it('holds a token budget and a request rate together, whatever each task costs or gives back, and runs every task', async () => {
    await fc.assert(
      fc.asyncProperty(
        rateArb,
        fc.record({ limit: fc.integer({ min: 1, max: 5000 }), interval: fc.integer({ min: 5, max: 300 }) }),
        fc.array(
          fc.record({
            arrival: fc.integer({ min: 0, max: 1000 }),
            duration: fc.integer({ min: 0, max: 80 }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
            // What it really used, as a share of its estimate, told once it is done (none: never).
            used: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        politenessArb,
        async (requests, tokens, tasks, { rateMargin, smooth }) => {
          const clock = createManualClock()
          const limiter = createLimiter({
            rate: [requests, { ...tokens, unit: 'tokens' }],
            clock,
            rateMargin,
            smooth,
          })
          const starts: { at: number; weight: number }[] = []
          let ran = 0
          for (const task of tasks) {
            // Any cost the budget can hold at all, fractions of a token included.
            const cost = { tokens: task.share * tokens.limit }
            clock.setTimer(() => {
              void limiter.run(
                async (context) => {
                  const start = { at: clock.now(), weight: cost.tokens }
                  starts.push(start)
                  await sleep(clock, task.duration)
                  if (task.used !== undefined) {
                    // The rest is given back: what the window truly held is the usage.
                    start.weight = task.used * cost.tokens
                    context.used({ tokens: start.weight })
                  }
                  ran++
                },
                { cost },
              )
            }, task.arrival)
          }
          const longest = Math.max(requests.interval, tokens.interval) + rateMargin
          await clock.advance(2000 + tasks.length * (longest * 3 + 80))
          expect(ran).toBe(tasks.length)
          // A tiny tolerance: token costs are fractions, whose sums floats round.
          expect(maxWeightInWindow(starts, tokens.interval + rateMargin)).toBeLessThanOrEqual(
            tokens.limit + 1e-6,
          )
          const times = starts.map((start) => start.at)
          expect(maxInWindow(times, requests.interval + rateMargin)).toBeLessThanOrEqual(requests.limit)
          expect(clock.pendingTimers()).toBe(0)
        },
      ),
      { numRuns: 200 },
    )
  })
})
