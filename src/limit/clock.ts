import { performance } from 'node:perf_hooks'

/**
 * The only place volley reads time or sets timers. Production uses a monotonic clock
 * (`performance.now()`); tests inject a manual clock and advance it, so timing logic is tested
 * exactly and instantly instead of with sleeps and tolerances.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number
  /** Milliseconds since the Unix epoch: only to turn a Date (say, from Retry-After) into a duration. */
  wallTime(): number
  /** Calls `fn` once, no sooner than `ms` from now. */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
}

export type TimerHandle = unknown

export const systemClock: Clock = {
  now: () => performance.now(),
  wallTime: () => Date.now(),
  // setTimeout has whole-millisecond resolution and may fire a fraction early against
  // performance.now(); callers re-check the clock when the timer fires.
  setTimer: (fn, ms) => setTimeout(fn, Math.max(1, Math.ceil(ms))),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

interface ManualTimer {
  at: number
  seq: number
  fn: () => void
}

/** A clock that moves only when told to: for tests, and for users testing code built on volley. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order and letting promises settle between them. */
  advance(ms: number): Promise<void>
  /** Lets pending promise callbacks run without moving time. */
  flush(): Promise<void>
  /** How many timers are waiting. */
  pendingTimers(): number
}

/** `epoch` is the wall time (ms since 1970) that the manual clock's 0 stands for. */
export function createManualClock(start = 0, epoch = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start
  let seq = 0
  const timers = new Set<ManualTimer>()

  const flush = async () => {
    // A macrotask turn lets every queued microtask chain (including nested awaits) run.
    await new Promise<void>((resolve) => setImmediate(resolve))
  }

  const nextDue = (until: number): ManualTimer | undefined => {
    let best: ManualTimer | undefined
    for (const timer of timers) {
      if (
        timer.at <= until &&
        (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq))
      ) {
        best = timer
      }
    }
    return best
  }

  return {
    now: () => now,
    wallTime: () => epoch + now,
    setTimer(fn, ms) {
      const timer: ManualTimer = { at: now + Math.max(0, ms), seq: seq++, fn }
      timers.add(timer)
      return timer
    },
    clearTimer(handle) {
      timers.delete(handle as ManualTimer)
    },
    async advance(ms) {
      const until = now + ms
      await flush()
      for (let timer = nextDue(until); timer; timer = nextDue(until)) {
        timers.delete(timer)
        now = Math.max(now, timer.at)
        timer.fn()
        await flush()
      }
      now = until
      await flush()
    },
    flush,
    pendingTimers: () => timers.size,
  }
}
