import { AbortError } from '../errors.js'

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
