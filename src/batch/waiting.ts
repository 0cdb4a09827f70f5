import { AbortError } from '../errors.js'
import type { Clock } from '../limit/clock.js'

/**
 * The wait before step `n` (1 for the first) of an exponential backoff: `initial * factor^(n-1)`,
 * never more than `max`. A pure value, so schedules are tested as lists of numbers.
 */
export function backoffDelay(n: number, initial: number, factor: number, max: number): number {
  return Math.min(max, initial * factor ** (n - 1))
}

/**
 * Resolves after `ms` of `clock` time. When `signal` aborts first, the timer is cleared (nothing is
 * left behind to keep the process alive) and the promise rejects with an AbortError.
 */
export function waitFor(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(AbortError.from(signal))
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimer(timer)
      reject(AbortError.from(signal!))
    }
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** `promise`, or an AbortError as soon as `signal` aborts, whichever comes first. */
export function abortable<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(AbortError.from(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(AbortError.from(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
