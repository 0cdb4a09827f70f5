import { describe, expect, it } from 'vitest'
import { batcher } from '../../src/batch/batcher.js'
import { InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { outcome, recordingBatch } from './support.js'

const double = (key: number) => key * 2

/** Timers the process holds open (setTimeout/setInterval), as Node counts them. */
const liveTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length

describe("batcher maxWait: 'manual'", () => {
  it('sends nothing until dispatch(), which calls the batch function before it returns', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 'manual', clock })
    const loads = [1, 2, 3].map((key) => outcome(load(key)))
    await clock.advance(24 * 24 * 3600 * 1000)
    expect(keys()).toEqual([])
    expect(clock.pendingTimers()).toBe(0)
    load.dispatch()
    expect(keys()).toEqual([[1, 2, 3]])
    await clock.flush()
    expect(loads.map((l) => l.value)).toEqual([2, 4, 6])
    // Nothing open: a dispatch sends nothing.
    load.dispatch()
    expect(keys()).toHaveLength(1)
  })

  it('still sends a full batch at once', async () => {
    const clock = createManualClock()
    const { batch, keys } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 'manual', maxBatchSize: 2, clock })
    const results = Promise.all([1, 2, 3].map((key) => load(key)))
    expect(keys()).toEqual([[1, 2]])
    await load.flush()
    expect(keys()).toEqual([[1, 2], [3]])
    expect(await results).toEqual([2, 4, 6])
  })

  it('leaves no timer on the real clock while keys wait, where a long maxWait leaves one', async () => {
    const batch = async (keys: number[]) => keys.map(double)
    const before = liveTimers()
    const manual = batcher({ batch, maxWait: 'manual' })
    const waiting = manual(1)
    expect(liveTimers()).toBe(before)
    const timed = batcher({ batch, maxWait: '1h' })
    const timedOut = timed(1)
    expect(liveTimers()).toBe(before + 1)
    await Promise.all([manual.close(), timed.close()])
    expect([await waiting, await timedOut]).toEqual([2, 2])
    expect(liveTimers()).toBe(before)
  })

  it('holds cache hits until the dispatch too, as a user-driven DataLoader scheduler does', async () => {
    const clock = createManualClock()
    const { batch } = recordingBatch(clock, double)
    const load = batcher({ batch, maxWait: 'manual', cache: true, clock })
    load.prime(1, 2)
    const hit = outcome(load(1))
    await clock.flush()
    expect(hit.state).toBe('pending')
    load.dispatch()
    await clock.flush()
    expect(hit).toEqual({ state: 'fulfilled', value: 2 })
  })

  it("refuses a maxWait of Infinity, pointing to 'manual'", () => {
    const batch = async (keys: number[]) => keys
    expect(() => batcher({ batch, maxWait: Number.POSITIVE_INFINITY })).toThrow(InvalidOptionError)
    expect(() => batcher({ batch, maxWait: Number.POSITIVE_INFINITY })).toThrow(
      /option `maxWait` must be finite; for no timer at all pass 'manual' and call dispatch\(\), got Infinity/,
    )
    expect(() => batcher({ batch, maxWait: 'by hand' })).toThrow(/`maxWait`.*"by hand"/)
  })
})
