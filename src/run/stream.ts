import { AbortError } from '../errors.js'
import { type RunManyOptions, resolveRunOptions } from './options.js'
import { Pump, type TaskFn } from './pump.js'
import type { Result } from './result.js'
import { type Items, sourceOf } from './source.js'

/**
 * Runs `fn` on every item and yields each Result as it completes. Items are pulled lazily and
 * workers wait while the consumer has unread results, so memory stays bounded by the concurrency,
 * not by the input's length. Leaving a `for await` early aborts running tasks and waits for them.
 */
export function stream<I, T>(
  items: Items<I>,
  fn: TaskFn<I, T>,
  options?: RunManyOptions,
): AsyncIterableIterator<Result<Awaited<T>, I>> {
  const resolved = resolveRunOptions(options, 'stream')
  // Results tend to land in bursts of up to `workers` (all settling in one tick); room for two bursts
  // keeps workers from stalling on every item while the reader catches up.
  const highWater = resolved.workers * 2
  let buffer: Result<Awaited<T>, I>[] = []
  let read = 0
  // Readers waiting for a result, served in the order they asked: several when next() is called
  // again before the last one settled.
  const readers: Reader<Result<Awaited<T>, I>>[] = []
  // Workers blocked on a full buffer all wait on one promise, released when the reader has consumed
  // half of it: one wake-up per half-buffer instead of a promise and a wake-up per result.
  let room: Promise<void> | undefined
  let makeRoom: (() => void) | undefined
  const releaseWorkers = () => {
    const release = makeRoom
    room = makeRoom = undefined
    release?.()
  }
  let finished = false
  let failure: { error: unknown } | undefined

  /** Hands the results waiting (then the end, or the error that ended the run) to the readers waiting. */
  const serveReaders = () => {
    while (readers.length > 0) {
      if (read < buffer.length) readers.shift()!.resolve({ done: false, value: take() })
      else if (!finished) return
      else if (failure) {
        const { error } = failure
        failure = undefined
        readers.shift()!.reject(error)
      } else readers.shift()!.resolve({ done: true, value: undefined })
    }
  }
  const pump = new Pump(sourceOf(items), fn, resolved, {
    onResult(result) {
      buffer.push(result)
      serveReaders()
    },
    room() {
      if (buffer.length - read < highWater) return undefined
      room ??= new Promise<void>((resolve) => {
        makeRoom = resolve
      })
      return room
    },
  })
  let running: Promise<void> | undefined
  const start = () => {
    running ??= pump.run().then(
      () => {
        finished = true
        serveReaders()
      },
      (error: unknown) => {
        failure = { error }
        finished = true
        serveReaders()
      },
    )
  }

  const take = (): Result<Awaited<T>, I> => {
    const result = buffer[read]!
    buffer[read++] = undefined as never
    // Compact now and then so a long stream does not keep a long array.
    if (read > 1024 && read * 2 > buffer.length) {
      buffer = buffer.slice(read)
      read = 0
    }
    if (room && buffer.length - read <= highWater / 2) releaseWorkers()
    return result
  }

  const iterator: AsyncIterableIterator<Result<Awaited<T>, I>> = {
    next() {
      // A result already waiting is handed over without an async function call: the common case.
      if (read < buffer.length && readers.length === 0) return Promise.resolve({ done: false, value: take() })
      start()
      // One promise per wait, settled by serveReaders when a result comes (or the run ends).
      return new Promise((resolve, reject) => {
        readers.push({ resolve, reject })
        serveReaders()
      })
    },
    async return() {
      if (running) {
        pump.cancel(new AbortError('stream: the consumer stopped reading'))
        releaseWorkers()
        await running
      }
      finished = true
      buffer = []
      read = 0
      return { done: true, value: undefined }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}

interface Reader<R> {
  resolve(step: IteratorResult<R>): void
  reject(error: unknown): void
}
