import { Roster, type RosterEntry } from '../limit/roster.js'

/** What `CancelSignal.watch` returns: handed back to `forget` when the attempt ends. */
export type Watching = object

/** What an attempt needs from a signal: to hear of its abort while it is in flight, and then not. */
export interface CancelSignal {
  readonly aborted: boolean
  readonly reason: unknown
  /** Calls `onAbort` if the signal aborts, until `forget` is given what this returned. */
  watch(onAbort: () => void): Watching
  forget(watching: Watching): void
}

/** A single request's own AbortSignal: one request, one listener on it. */
export class OwnSignal implements CancelSignal {
  constructor(readonly source: AbortSignal) {}

  get aborted(): boolean {
    return this.source.aborted
  }

  get reason(): unknown {
    return this.source.reason
  }

  watch(onAbort: () => void): Watching {
    this.source.addEventListener('abort', onAbort)
    return onAbort
  }

  forget(watching: Watching): void {
    this.source.removeEventListener('abort', watching as () => void)
  }
}

/**
 * One listener on `source`, fanned out to the attempts in flight of an `all`/`stream`/`group`
 * call. On the AbortSignal itself that would be an EventTarget entry per request (and Node's
 * "possible memory leak" warning past 10 of them).
 */
export class SignalFanout implements CancelSignal {
  readonly #source: AbortSignal
  readonly #listeners = new Roster<() => void>()

  constructor(source: AbortSignal) {
    this.#source = source
    if (!source.aborted) {
      source.addEventListener(
        'abort',
        () => {
          for (const listener of this.#listeners.values()) listener()
        },
        { once: true },
      )
    }
  }

  get aborted(): boolean {
    return this.#source.aborted
  }

  get reason(): unknown {
    return this.#source.reason
  }

  watch(onAbort: () => void): Watching {
    return this.#listeners.add(onAbort)
  }

  forget(watching: Watching): void {
    this.#listeners.delete(watching as RosterEntry<() => void>)
  }
}
