import { AbortError } from '../errors.js'
import type { Clock } from './clock.js'

/**
 * Resolves after `ms` of `clock` time. When `signal` aborts first, the timer is cleared (nothing is
 * left behind to keep the process alive) and the promise rejects with an AbortError.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
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
