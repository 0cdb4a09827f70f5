/**
 * What the client reports as it works, for progress bars and logs (the library never prints).
 * Each event has one payload object, so fields can be added without breaking listeners. Every URL
 * in a payload is redacted. An event nobody listens to costs one property check: no payload is built.
 */
export interface ClientEvents {
  /** An attempt is about to be sent (it has passed the limiter). */
  request: {
    method: string
    url: string
    origin: string
    /** 1 for the first attempt. */
    attempt: number
    id: string | number | undefined
  }
  /** An attempt got a response (any status). */
  response: {
    method: string
    url: string
    origin: string
    status: number
    attempt: number
    /** Ms this attempt took, from sending to the end of the body. */
    ms: number
    id: string | number | undefined
  }
  /** An attempt failed and another will be made after `delay` ms (plus any limiter wait). */
  retry: {
    method: string
    url: string
    origin: string
    /** The attempt that failed (1 for the first). */
    attempt: number
    /** Why: 'status 503', 'TIMEOUT', 'NETWORK ECONNRESET'. */
    reason: string
    status: number | undefined
    /** Ms before the next attempt enters the limiter; 0 when a pause of the origin does the waiting. */
    delay: number
    /** 'retry-after' when the server chose the delay, else 'backoff'. */
    source: 'retry-after' | 'backoff'
    id: string | number | undefined
  }
  /** An origin's limiter was paused: nothing new starts for that origin for `ms`. */
  pause: {
    origin: string
    ms: number
    /** 'retry-after' (a 429/503 said so) or 'ratelimit' (RateLimit/X-RateLimit remaining ran out). */
    reason: 'retry-after' | 'ratelimit'
    status: number
  }
  /** A quota was learned from the server's rate-limit headers (any dialect) and is now enforced. */
  quota: {
    origin: string
    /**
     * The rates now in force for the origin: yours, and the server's with the part of its safety
     * margin that exceeds `rateMargin` (which the limiter adds to every window on top). `unit`
     * names a budget in other units than requests ('tokens').
     */
    rates: { limit: number; interval: number; unit?: string }[]
  }
  /** A request settled with an error (after its last attempt). */
  error: {
    method: string
    url: string
    origin: string
    error: Error
    id: string | number | undefined
  }
}

export type ClientEventName = keyof ClientEvents
export type Listener<K extends ClientEventName> = (payload: ClientEvents[K]) => void
export type Listeners = { [K in ClientEventName]?: Listener<K> | readonly Listener<K>[] }

const NAMES: readonly ClientEventName[] = ['request', 'response', 'retry', 'pause', 'quota', 'error']

export function isEventName(name: unknown): name is ClientEventName {
  return NAMES.includes(name as ClientEventName)
}

/**
 * A minimal typed emitter. `has.x` is checked before building a payload, so an event without
 * listeners costs nothing. A listener that throws does not break the request: the error is dropped
 * (the library never prints), so keep listeners simple.
 */
export class Emitter {
  readonly #lists: { [K in ClientEventName]?: Listener<K>[] } = {}
  /** `has.retry` is true while someone listens to 'retry'. */
  readonly has: Record<ClientEventName, boolean> = {
    request: false,
    response: false,
    retry: false,
    pause: false,
    quota: false,
    error: false,
  }

  on<K extends ClientEventName>(name: K, listener: Listener<K>): () => void {
    let list = this.#lists[name] as Listener<K>[] | undefined
    if (!list) {
      list = []
      ;(this.#lists as Record<string, unknown>)[name] = list
    }
    list.push(listener)
    this.has[name] = true
    return () => {
      const at = list.indexOf(listener)
      if (at >= 0) list.splice(at, 1)
      this.has[name] = list.length > 0
    }
  }

  emit<K extends ClientEventName>(name: K, payload: ClientEvents[K]): void {
    const list = this.#lists[name] as Listener<K>[] | undefined
    if (!list) return
    for (const listener of list.slice()) {
      try {
        listener(payload)
      } catch {
        // A listener's bug must not turn a good response into a failure.
      }
    }
  }
}
