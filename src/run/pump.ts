import { AbortError } from '../errors.js'
import type { RunOptions } from '../limit/task.js'
import type { ResolvedRunOptions } from './options.js'
import { type ItemContext, type Result, toError } from './result.js'
import type { Pulled, Source } from './source.js'

export type TaskFn<I, T> = (item: I, context: ItemContext) => T | PromiseLike<T>

export interface PumpHooks<I, T> {
  /** Called once per pulled item, as it settles. */
  onResult(result: Result<Awaited<T>, I>): void
  /** When it returns a promise, workers wait for it before pulling more (stream backpressure). */
  room?(): Promise<void> | undefined
  /** Group mode: a failed task stops the run and aborts the others. */
  failFast?: boolean
}

/**
 * The engine under all, stream and group: `workers` loops each pull the next item, run it (through
 * the limiter when there is one) and report its Result. Pulling lazily keeps memory bounded by
 * what is in flight, whatever the input's length.
 */
export class Pump<I, T> {
  readonly #source: Source<I>
  readonly #fn: TaskFn<I, T>
  readonly #options: ResolvedRunOptions
  readonly #hooks: PumpHooks<I, T>
  /** Aborts running tasks: caller abort, group failure, stream consumer gone. */
  readonly #abort = new AbortController()
  /** Stops starts: everything above, plus `stopSignal`. Queued tasks leave a shared limiter on it. */
  readonly #halt = new AbortController()
  readonly #limiterOptions: RunOptions
  /** Set once starts have stopped: the error every unstarted item settles with. */
  #halted: AbortError | undefined
  #stopPulling = false
  #sourceError: { error: unknown } | undefined
  readonly failures: Error[] = []
  readonly #cleanups: (() => void)[] = []

  constructor(source: Source<I>, fn: TaskFn<I, T>, options: ResolvedRunOptions, hooks: PumpHooks<I, T>) {
    this.#source = source
    this.#fn = fn
    this.#options = options
    this.#hooks = hooks
    this.#limiterOptions = { signal: this.#halt.signal, priority: options.priority }
    // A group settles nothing after a failure, so a caller's abort stops its pulling too.
    this.#follow(options.signal, (reason) => (hooks.failFast ? this.cancel(reason) : this.abort(reason)))
    this.#follow(options.stopSignal, (reason) => this.#stopStarting(reason))
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Runs every item; resolves when all pulled items have settled (rejects if the source threw). */
  async run(): Promise<void> {
    const workers: Promise<void>[] = []
    for (let i = 0; i < this.#options.workers; i++) workers.push(this.#work())
    try {
      await Promise.all(workers)
    } finally {
      for (const cleanup of this.#cleanups) cleanup()
      await this.#source.close().catch(() => {})
    }
    if (this.#sourceError) throw this.#sourceError.error
  }

  /** Aborts running tasks and starts nothing more; unstarted items still settle, as AbortErrors. */
  abort(reason: unknown): void {
    this.#stopStarting(reason)
    if (!this.#abort.signal.aborted) this.#abort.abort(reason)
  }

  /** Aborts like `abort`, and also stops pulling: nothing more settles (the consumer has gone). */
  cancel(reason: unknown): void {
    this.#stopPulling = true
    this.#source.stop()
    this.abort(reason)
  }

  async #work(): Promise<void> {
    // The loop is the hot path (millions of items): locals instead of repeated field reads, and the
    // task inlined rather than an async call per item.
    const source = this.#source
    const hooks = this.#hooks
    const fn = this.#fn
    const limiter = this.#options.limiter
    const signal = this.#abort.signal
    for (;;) {
      if (this.#stopPulling) return
      const room = hooks.room?.()
      if (room) {
        await room
        continue
      }
      let pulled: Pulled<I>
      try {
        const next = source.next()
        pulled = next instanceof Promise ? await next : next
      } catch (error) {
        this.#sourceError ??= { error }
        this.cancel(error)
        return
      }
      if (!pulled || this.#stopPulling) return
      const { item, index } = pulled
      if (this.#halted) {
        hooks.onResult({ ok: false, error: this.#halted, index, item })
        continue
      }
      try {
        const value = limiter
          ? await limiter.run(() => fn(item, { signal, index }), this.#limiterOptions)
          : await fn(item, { signal, index })
        hooks.onResult({ ok: true, value: value as Awaited<T>, index, item })
      } catch (thrown) {
        const error = toError(thrown)
        hooks.onResult({ ok: false, error, index, item })
        if (hooks.failFast) this.#fail(error)
      }
    }
  }

  #stopStarting(reason: unknown): void {
    if (this.#halted) return
    this.#halt.abort(reason)
    this.#halted = AbortError.from(this.#halt.signal)
  }

  #fail(error: Error): void {
    // Once the group has failed, the aborts it caused are consequences, not failures of their own.
    if (this.#abort.signal.aborted && isAbort(error)) return
    this.failures.push(error)
    this.cancel(error)
  }

  #follow(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): void {
    if (!signal) return
    if (signal.aborted) {
      onAbort(signal.reason)
      return
    }
    const listener = () => onAbort(signal.reason)
    signal.addEventListener('abort', listener, { once: true })
    this.#cleanups.push(() => signal.removeEventListener('abort', listener))
  }
}

function isAbort(error: Error): boolean {
  return error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORTED'
}
