import type { BatchContext } from '../../src/batch/options.js'
import type { ManualClock } from '../../src/limit/clock.js'
import { sleep } from '../support/clock.js'

/**
 * A batch function that records each call (its keys and when it started on the clock) and answers
 * `answer(key)` for every key, after `ms` of clock time.
 */
export function recordingBatch<K, V>(clock: ManualClock, answer: (key: K) => V | Error, ms = 0) {
  const calls: { keys: K[]; at: number; signal: AbortSignal }[] = []
  const batch = async (keys: K[], { signal }: BatchContext) => {
    calls.push({ keys: [...keys], at: clock.now(), signal })
    if (ms > 0) await sleep(clock, ms)
    return keys.map(answer)
  }
  return { calls, batch, keys: () => calls.map((call) => call.keys) }
}

/** Records how a promise settled, so a test can look without awaiting (and without unhandled rejections). */
export function outcome<T>(promise: Promise<T>) {
  const seen: { state: 'pending' | 'fulfilled' | 'rejected'; value?: T; error?: unknown } = {
    state: 'pending',
  }
  promise.then(
    (value) => Object.assign(seen, { state: 'fulfilled', value }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error }),
  )
  return seen
}
