import { describe, expect, it } from 'vitest'
import { PollTimeoutError, poll } from '../../src/batch/poll.js'
import { AbortError, InvalidOptionError } from '../../src/errors.js'
import { createManualClock } from '../../src/limit/clock.js'
import { outcome } from './support.js'

/** A job that answers 'pending' until the clock reaches `doneAt`; records when it was checked. */
function job(clock: ReturnType<typeof createManualClock>, doneAt: number) {
  const checks: number[] = []
  const check = () => {
    checks.push(clock.now())
    return { status: clock.now() >= doneAt ? 'done' : 'pending' }
  }
  return { checks, check, until: (r: { status: string }) => r.status === 'done' }
}

describe('poll', () => {
  it('checks at once, then after interval, interval * backoff, ... until `until` holds', async () => {
    const clock = createManualClock()
    const { checks, check, until } = job(clock, 700)
    const result = outcome(poll(check, { until, interval: 100, backoff: 2, clock }))
    await clock.advance(1000)
    expect(checks).toEqual([0, 100, 300, 700])
    expect(result).toEqual({ state: 'fulfilled', value: { status: 'done' } })
    expect(clock.pendingTimers()).toBe(0)
  })

  it('never waits longer than maxInterval between checks', async () => {
    const clock = createManualClock()
    const { checks, check, until } = job(clock, 1000)
    const result = outcome(poll(check, { until, interval: '100ms', maxInterval: '250ms', clock }))
    await clock.advance(2000)
    expect(checks).toEqual([0, 100, 300, 550, 800, 1050])
    expect(result.state).toBe('fulfilled')
  })

  it('polls at a steady interval with backoff 1', async () => {
    const clock = createManualClock()
    const { checks, check, until } = job(clock, 300)
    await Promise.all([poll(check, { until, interval: 100, backoff: 1, clock }), clock.advance(1000)])
    expect(checks).toEqual([0, 100, 200, 300])
  })

  it('rejects with a PollTimeoutError holding the last result when the timeout passes', async () => {
    const clock = createManualClock()
    const { checks, check, until } = job(clock, Number.POSITIVE_INFINITY)
    const result = outcome(poll(check, { until, interval: 100, timeout: '1s', clock }))
    await clock.advance(999)
    expect(result.state).toBe('pending')
    await clock.advance(1)
    expect(checks).toEqual([0, 100, 300, 700])
    expect(result.state).toBe('rejected')
    const error = result.error as PollTimeoutError
    expect(error).toBeInstanceOf(PollTimeoutError)
    expect(error.code).toBe('POLL_TIMEOUT')
    expect(error).toMatchObject({ attempts: 4, elapsed: 1000, lastResult: { status: 'pending' } })
    expect(error.message).toBe(
      'poll: gave up after 1000 ms and 4 check(s); the last result was {"status":"pending"}',
    )
    expect(clock.pendingTimers()).toBe(0)
  })

  it('aborts a check still running at the timeout through its signal', async () => {
    const clock = createManualClock()
    let checkSignal: AbortSignal | undefined
    const result = outcome(
      poll(
        ({ signal }) => {
          checkSignal = signal
          return new Promise<string>(() => {})
        },
        { until: () => true, timeout: 500, clock },
      ),
    )
    await clock.advance(500)
    expect(checkSignal?.aborted).toBe(true)
    expect((result.error as PollTimeoutError).message).toMatch(/0 check\(s\); no check had answered/)
  })

  it('stops at once with an AbortError when the caller aborts, leaving no timer', async () => {
    const clock = createManualClock()
    const { checks, check, until } = job(clock, Number.POSITIVE_INFINITY)
    const controller = new AbortController()
    const result = outcome(poll(check, { until, interval: 100, signal: controller.signal, clock }))
    await clock.advance(150)
    controller.abort()
    await clock.flush()
    expect(checks).toEqual([0, 100])
    expect(result.error).toBeInstanceOf(AbortError)
    expect(clock.pendingTimers()).toBe(0)
    await expect(poll(check, { until, signal: controller.signal, clock })).rejects.toBeInstanceOf(AbortError)
  })

  it('ends with the error of a check that throws', async () => {
    const clock = createManualClock()
    const failing = () => Promise.reject(new Error('job vanished'))
    await expect(poll(failing, { until: () => true, clock })).rejects.toThrow('job vanished')
    expect(clock.pendingTimers()).toBe(0)
  })

  it('rejects bad options, naming them and their values', () => {
    const check = () => 1
    const until = () => true
    expect(() => poll(check, {} as never)).toThrow(/`until` must be a function/)
    expect(() => poll('x' as never, { until })).toThrow(/check must be a function/)
    expect(() => poll(check, { until, interval: 0 })).toThrow(/`interval` must be > 0, got 0/)
    expect(() => poll(check, { until, backoff: 0.5 })).toThrow(/`backoff` must be a factor >= 1.*0.5/)
    expect(() => poll(check, { until, interval: 100, maxInterval: 50 })).toThrow(
      /`maxInterval` must be >= interval/,
    )
    expect(() => poll(check, { until, timeout: 'never' })).toThrow(InvalidOptionError)
  })
})
