import type { Counting } from './model.js'
import { USUAL_WINDOWS } from './per-minute.js'

/**
 * The client's running copy of a server's count, for servers that count in a fixed window (GitHub)
 * or a leaky bucket (Shopify). A sliding-window limiter cannot say these exactly: its starts expire
 * one window after they were made, not at the server's reset, and a burst the bucket allows holds it
 * for a whole drain. So the count is kept here, from the last answer that said it plus the sends
 * made after that one, and the origin pauses exactly until the server has room again.
 *
 * Sends are numbered; an answer stands for the count when its request arrived, which takes in the
 * sends made before it that have been answered and none made after. An earlier send still in flight
 * may arrive after it (two connections, two paths through the network), so it is counted on top
 * until its own answer says otherwise (see Unanswered). An answer for a request older than the last
 * one read is no newer basis, whatever order the answers come in.
 */
export interface Count {
  /** Sends counted here, and the number of the last. */
  sent: number
  /** Records one send made at `now` (by the monotonic clock), with `inFlight` others of the origin unanswered. */
  count(now: number, inFlight: number): void
  /** Send number `seq` is over: answered, failed or withdrawn. */
  settle(seq: number): void
  /** What the answer to send number `seq`, read at `now`, says of the server's count. */
  observe(seq: number, counting: Counting, now: number): void
  /** Ms from `now` until one more send fits; 0 if it fits now. */
  wait(now: number): number
}

/** Resets said in whole epoch seconds: two within this of each other are the same window's. */
const SAME_RESET_MS = 500
/**
 * A reset said as an epoch time is only as exact as the two clocks agree: the count is taken as
 * whole again 1% of the window after it (at least 10 ms; 36 s of GitHub's hour), so a client whose
 * clock runs that far ahead is not refused at every reset. A reset said as a delay needs none.
 */
const RESET_MARGIN = { share: 0.01, minMs: 10 } as const

/**
 * The sends of a count still unanswered, and how the answer the count stands on (its basis) is
 * corrected for the order requests arrived in: sends made before it and still unanswered are
 * counted on top of it (they may arrive after it) until an answer says they arrived before it;
 * sends made after it whose answers say they arrived before it are taken off (it counted them).
 */
class Unanswered {
  readonly #sends = new Set<number>()
  readonly #beforeBasis = new Set<number>()
  #basis = 0
  /** Sends after the basis that arrived before it. */
  #overtook = 0

  /** What to add to the basis's count and the sends after it. */
  get correction(): number {
    return this.#beforeBasis.size - this.#overtook
  }

  sent(seq: number): void {
    this.#sends.add(seq)
  }

  settled(seq: number): void {
    this.#sends.delete(seq)
  }

  /** The answer to send `seq` is the new basis. */
  rebase(seq: number): void {
    this.#basis = seq
    this.#overtook = 0
    this.#beforeBasis.clear()
    for (const sent of this.#sends) if (sent < seq) this.#beforeBasis.add(sent)
  }

  /** The count starts over after send `seq`, every send in flight counted in it. */
  restart(seq: number): void {
    this.#basis = seq
    this.#overtook = 0
    this.#beforeBasis.clear()
  }

  /** Send `seq`'s answer says it arrived before the basis: the basis counted it. */
  arrivedFirst(seq: number): void {
    if (seq > this.#basis) this.#overtook++
    else this.#beforeBasis.delete(seq)
  }
}

/**
 * A fixed window: `limit` per window, reset whole at the time said. The next reset, before an
 * answer from the new window says it, is one window later: the shortest gap between two resets
 * said (GitHub opens a window at the first request after one closes, so a gap is at least the
 * window), or, before two were seen, the smallest usual window (1 s, 10 s, 1 min, 1 h, 1 day) that
 * holds the longest time to a reset said. Only a client with more requests in flight than the limit
 * relies on it: any answer from the new window says the real reset. Epoch resets are kept with
 * their margin (RESET_MARGIN) added.
 */
class FixedWindowCount implements Count {
  sent = 0
  #limit = Number.POSITIVE_INFINITY
  #resetAt: number | undefined
  #saidResetAt: number | undefined
  #gap = Number.POSITIVE_INFINITY
  #longestReset = 0
  #basisSeq = 0
  #basisUsed = 0
  readonly #unanswered = new Unanswered()

  count(now: number, inFlight: number): void {
    if (this.#resetAt !== undefined && now >= this.#resetAt) {
      const window = this.#window()
      this.#resetAt += window * (Math.floor((now - this.#resetAt) / window) + 1)
      // The sends in flight may arrive after the reset: counted in the new window until an answer says.
      this.#basisSeq = this.sent
      this.#basisUsed = inFlight
      this.#unanswered.restart(this.sent)
    }
    this.#unanswered.sent(++this.sent)
  }

  settle(seq: number): void {
    this.#unanswered.settled(seq)
  }

  observe(seq: number, counting: Counting, now: number): void {
    if (counting.kind !== 'fixed-window' || counting.reset <= 0) return // a window that has ended
    this.#limit = counting.limit
    this.#longestReset = Math.max(this.#longestReset, counting.reset)
    const resetAt = now + counting.reset
    const said = this.#saidResetAt
    if (said !== undefined && resetAt < said - SAME_RESET_MS) return // an earlier window's answer
    if (said === undefined || resetAt > said + SAME_RESET_MS) {
      if (said !== undefined) this.#gap = Math.min(this.#gap, resetAt - said)
      this.#saidResetAt = resetAt
    } else if (seq <= this.#basisSeq || counting.used < this.#basisUsed) {
      // Saying less than the basis, its request arrived before the basis's (an older send answered
      // late, or a newer one that overtook it): the basis takes it in, and stays the basis.
      if (counting.used < this.#basisUsed) this.#unanswered.arrivedFirst(seq)
      return
    }
    const margin = counting.epochReset ? Math.max(RESET_MARGIN.minMs, this.#window() * RESET_MARGIN.share) : 0
    this.#resetAt = resetAt + margin
    this.#basisSeq = seq
    this.#basisUsed = counting.used
    this.#unanswered.rebase(seq)
  }

  wait(now: number): number {
    if (this.#resetAt === undefined || now >= this.#resetAt) return 0
    const used = this.#basisUsed + this.sent - this.#basisSeq + this.#unanswered.correction
    return used < this.#limit ? 0 : this.#resetAt - now
  }

  #window(): number {
    if (this.#gap !== Number.POSITIVE_INFINITY) return this.#gap
    return USUAL_WINDOWS.find((usual) => usual >= this.#longestReset) ?? this.#longestReset
  }
}

/**
 * A leaky bucket of `size` leaking `leakPerMs`: the level said, less what has leaked since the
 * answer was read (the request arrived earlier and leaked more: this errs on the safe side), plus
 * the sends made after it.
 */
class LeakyBucketCount implements Count {
  sent = 0
  #size = Number.POSITIVE_INFINITY
  #leakPerMs = 0
  /** Below every send's number until the first answer is read. */
  #basisSeq = -1
  #basisLevel = 0
  #basisAt = 0
  readonly #unanswered = new Unanswered()

  count(): void {
    this.#unanswered.sent(++this.sent)
  }

  settle(seq: number): void {
    this.#unanswered.settled(seq)
  }

  observe(seq: number, counting: Counting, now: number): void {
    if (counting.kind !== 'leaky-bucket' || seq <= this.#basisSeq) return
    // Below what the basis has leaked to by now, a newer send overtook the basis's: the basis stays.
    if (counting.used < this.#basisLevel - this.#leakPerMs * (now - this.#basisAt)) {
      this.#unanswered.arrivedFirst(seq)
      return
    }
    this.#size = counting.size
    this.#leakPerMs = counting.leakPerMs
    this.#basisSeq = seq
    this.#basisLevel = counting.used
    this.#basisAt = now
    this.#unanswered.rebase(seq)
  }

  wait(now: number): number {
    const leaked = this.#leakPerMs * (now - this.#basisAt)
    const after = this.sent - this.#basisSeq + this.#unanswered.correction
    const over = Math.max(0, this.#basisLevel - leaked) + after + 1 - this.#size
    return over <= 0 ? 0 : over / this.#leakPerMs
  }
}

/** The numbers a send was given in each count it was counted in. */
export type CountTicket = ReadonlyMap<Count, number>

/** The ticket of a send to a server whose count nobody keeps (most): nothing to allocate. */
const NO_TICKET: CountTicket = new Map()

/**
 * An origin's server counts, one per resource the server names (GitHub counts core, search, graphql
 * apart: 5,000/h is not 30/min). A send is counted in its resource's count when its path's first
 * segment (`/search`, `/graphql`, `/repos`) has always been answered from one resource, and in every
 * count otherwise (the safe side). A full count pauses the whole origin: requests cannot be held
 * apart by resource without holding their concurrency slots.
 */
/**
 * Resources kept (GitHub names a handful): a server naming thousands would have every send counted
 * thousands of times. Answers from more are not counted; their refusals still pause the origin.
 */
const MAX_RESOURCES = 16
/** Path segments remembered; past them a new one is counted in every resource's count. */
const MAX_SEGMENTS = 1000

export class ServerCounts {
  readonly #counts = new Map<string, Count>()
  /** Each path's first segment, and the one resource its answers named (null: several). */
  readonly #resourceOf = new Map<string, string | null>()

  /** Counts a send to `path` made at `now`; returns the ticket its answer is observed with (and `wait` reads). */
  count(path: string, now: number, inFlight: number): CountTicket {
    if (this.#counts.size === 0) return NO_TICKET
    const ticket = new Map<Count, number>()
    const resource = this.#resourceOf.get(segment(path))
    const own = resource === null || resource === undefined ? undefined : this.#counts.get(resource)
    for (const count of own ? [own] : this.#counts.values()) {
      count.count(now, inFlight)
      ticket.set(count, count.sent)
    }
    return ticket
  }

  /**
   * Reads what an answer to `path` says of its count. A send not counted there (made before the
   * count existed, or to a path thought to be another resource's) is taken as older than every
   * other send in flight: those may arrive after it.
   */
  observe(ticket: CountTicket, path: string, counting: Counting, now: number, inFlight: number): number {
    const resource = counting.kind === 'fixed-window' ? counting.resource : ''
    let count = this.#counts.get(resource)
    if (!count && this.#counts.size >= MAX_RESOURCES) return 0
    const key = segment(path)
    const known = this.#resourceOf.get(key)
    if (known !== undefined || this.#resourceOf.size < MAX_SEGMENTS) {
      this.#resourceOf.set(key, known === undefined || known === resource ? resource : null)
    }
    if (!count || (counting.kind === 'fixed-window') !== count instanceof FixedWindowCount) {
      count = counting.kind === 'fixed-window' ? new FixedWindowCount() : new LeakyBucketCount()
      // The sends in flight were made before the count existed: taken as made after this one.
      count.sent = inFlight
      this.#counts.set(resource, count)
    }
    count.observe(ticket.get(count) ?? Math.max(0, count.sent - inFlight), counting, now)
    return count.wait(now)
  }

  /** The send `ticket` stands for is over (answered or not): call once, before observing its answer. */
  settle(ticket: CountTicket): void {
    for (const [count, seq] of ticket) count.settle(seq)
  }

  /** Ms from `now` until one more send fits every count `ticket` was counted in; 0 if it fits now. */
  wait(ticket: CountTicket, now: number): number {
    let wait = 0
    for (const count of ticket.keys()) wait = Math.max(wait, count.wait(now))
    return wait
  }
}

/** A path's first segment: '/search/code' -> 'search'. */
function segment(path: string): string {
  const end = path.indexOf('/', 1)
  return end < 0 ? path.slice(1) : path.slice(1, end)
}
