/** When an origin's circuit opens, and how long it stays open before one request may probe it. */
export interface BreakerPolicy {
  /**
   * Refusals in a row (429, or a 5xx that says the server is overloaded or down) that open it. A
   * refusal counts only if its attempt was sent after the last counted one came back: the burst
   * that was already on the wire counts once, and what counts is the server refusing a client that
   * heard it (and waited as it asked).
   */
  readonly failures: number
  /** Ms it stays open; then one attempt probes, and its answer closes or re-opens the circuit. */
  readonly cooldown: number
}

/** One origin's circuit: closed (counting refusals), open until a time, or probing. */
export class Circuit {
  /** Counted refusals in a row, every request's attempts together. */
  failures = 0
  /** When the last counted refusal came back: refusals of attempts sent before it do not count. */
  refusedAt = Number.NEGATIVE_INFINITY
  /** Monotonic time until which attempts fail at once; -Infinity while closed. */
  openUntil = Number.NEGATIVE_INFINITY
  /** An attempt is probing the half-open circuit: the others still fail at once. */
  probing = false

  get isOpen(): boolean {
    return this.openUntil !== Number.NEGATIVE_INFINITY
  }
}
