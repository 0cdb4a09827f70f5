/**
 * What an attempt needs from a signal: AbortSignal has it, and so does SignalFanout, which lets
 * the requests of one `all`/`stream`/`group` call share a single listener on the call's signal.
 */
export interface CancelSignal {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/**
 * One listener on `source`, fanned out to any number of subscribers held in a Set. Requests in
 * flight subscribe and unsubscribe once each; on an AbortSignal that would be an EventTarget
 * list per request (and Node's "possible memory leak" warning past 10 of them).
 */
export class SignalFanout implements CancelSignal {
  readonly #source: AbortSignal
  readonly #listeners = new Set<() => void>()

  constructor(source: AbortSignal) {
    this.#source = source
    if (!source.aborted) {
      source.addEventListener(
        'abort',
        () => {
          for (const listener of [...this.#listeners]) listener()
          this.#listeners.clear()
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

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.add(listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.delete(listener)
  }
}
