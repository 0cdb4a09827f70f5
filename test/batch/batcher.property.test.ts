import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batcher } from '../../src/batch/batcher.js'
import { AbortError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { sleep } from '../support/clock.js'

type Op =
  | { kind: 'load'; key: number; abortable: boolean }
  | { kind: 'abort'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'dispatch' }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    // Up to 120 distinct keys: dedupe's tables grow past their first size within a batch.
    arbitrary: fc.record({ kind: fc.constant('load' as const), key: fc.nat(119), abortable: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(30) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dispatch' as const) }) },
)

/**
 * How key k (0-119) is spelled: small ints (dedupe's typed table), strings and numbers that are not
 * int32 (its Map), a mix of all three, or the int32 edges (-0, ±2^31 and around, negatives).
 */
const spellings = {
  int: (k: number) => k,
  string: (k: number) => `#${k}`,
  float: (k: number) => k + 0.5,
  mixed: (k: number) => [k, `#${k}`, 2 ** 40 + k][k % 3]!,
  edges: (k: number) => [k === 0 ? -0 : -k, 2 ** 31 + k, -(2 ** 31) + k, 2 ** 31 - 1 - k][k % 4]!,
}

const config = fc.record({
  spelling: fc.constantFrom(...(Object.keys(spellings) as (keyof typeof spellings)[])),
  maxBatchSize: fc.oneof(
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 20, max: 80 }),
    fc.constant(Number.POSITIVE_INFINITY),
  ),
  /** The batch function answers an array aligned with its keys, or a Map keyed by them. */
  answerAs: fc.constantFrom('array' as const, 'map' as const),
  maxWait: fc.oneof(fc.nat(20), fc.constant('manual' as const)),
  dedupe: fc.boolean(),
  /** With a cache, hits wait for the batch they join, and aborted keys are still fetched. */
  cache: fc.boolean(),
  concurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  latency: fc.nat(20),
})

/** Keys 3 and 7 fail on their own; every other key k answers k * 10. */
const answer = (key: number) => (key % 4 === 3 ? new Error(`no ${key}`) : key * 10)

describe('batcher properties', () => {
  it('settles every load once with its own key’s result, and never sends more than maxBatchSize keys', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(op, { maxLength: 60 }), async (cfg, ops) => {
        const clock = createManualClock()
        const spell = spellings[cfg.spelling]
        const kOf = new Map(Array.from({ length: 120 }, (_, k) => [spell(k), k]))
        const sent: number[][] = []
        const unwanted: number[] = []
        const loads: {
          key: number
          aborted: boolean
          settled: number
          outcome?: unknown
          controller?: AbortController
        }[] = []
        const load = batcher({
          batch: async (spelled: (number | string)[]) => {
            const keys = spelled.map((key) => kOf.get(key)!)
            sent.push(keys)
            // An aborted load's key is left out unless another load (or the cache) still waits for it.
            for (const key of cfg.cache ? [] : keys) {
              if (!loads.some((l) => l.key === key && !l.aborted && l.settled === 0)) unwanted.push(key)
            }
            await sleep(clock, cfg.latency)
            return cfg.answerAs === 'array'
              ? keys.map(answer)
              : new Map(spelled.map((key, i) => [key, answer(keys[i]!)]))
          },
          maxBatchSize: cfg.maxBatchSize,
          maxWait: cfg.maxWait,
          dedupe: cfg.dedupe,
          cache: cfg.cache,
          concurrency: cfg.concurrency,
          clock,
        })
        for (const step of ops) {
          if (step.kind === 'load') {
            const controller = step.abortable ? new AbortController() : undefined
            const entry = {
              key: step.key,
              aborted: false,
              settled: 0,
              outcome: undefined as unknown,
              controller,
            }
            loads.push(entry)
            load(spell(step.key), { signal: controller?.signal }).then(
              (value) => {
                entry.settled++
                entry.outcome = value
              },
              (error: unknown) => {
                entry.settled++
                entry.outcome = error
              },
            )
          } else if (step.kind === 'abort') {
            const abortable = loads.filter((l) => l.controller)
            const target = abortable[step.pick % Math.max(1, abortable.length)]
            if (target && target.settled === 0) {
              target.aborted = true
              target.controller!.abort()
            }
          } else if (step.kind === 'dispatch') {
            load.dispatch()
          } else {
            await clock.advance(step.ms)
          }
        }
        let closed = false
        void load.close().then(() => {
          closed = true
        })
        for (let i = 0; i < 200 && !closed; i++) await clock.advance(50)
        expect(closed).toBe(true)
        expect(unwanted).toEqual([])
        for (const batch of sent) {
          expect(batch.length).toBeLessThanOrEqual(cfg.maxBatchSize)
          if (cfg.dedupe || cfg.cache) expect(new Set(batch).size).toBe(batch.length)
        }
        for (const entry of loads) {
          expect(entry.settled).toBe(1)
          if (entry.outcome instanceof AbortError) expect(entry.aborted).toBe(true)
          else expect(entry.outcome).toEqual(answer(entry.key))
        }
        expect(clock.pendingTimers()).toBe(0)
      }),
      { numRuns: 150 },
    )
  })
})
