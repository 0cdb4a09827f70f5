import { type Cost, costIn, sameCost } from './cost.js'
import type { PriorityQueue } from './queue.js'
import type { Admission, LimiterStore, LimitPolicy } from './store.js'
import type { Clock } from './clock.js'
import { noop, type QueuedTask } from './task.js'
import { rateName } from './pace.js'

/**
 * Most starts asked for in one call: enough that a round trip is a small part of each start's cost,
 * few enough that one call does not hold the store (a Redis script blocks every other client) long.
 */
const MOST_PER_CALL = 64
/**
 * The most of any rate's window one call asks for (always one task at least). Processes that a
 * window wakes together then take turns in it, as when each asked for one start at a time, instead
 * of the first one taking it all (its requests would all go out at once, many on new connections,
 * and a far API would count them late), and a window's starts are spread over many calls, so that
 * it reopens gradually. At high rates calls are full (MOST_PER_CALL) all the same.
 */
const WINDOW_SHARE = 1 / 16
/**
 * Most calls in flight at once. A call goes before the last one answered only when both ask for
 * MOST_PER_CALL starts and that one got them all: the queue is deep and the store keeps up.
 * Otherwise what is queued meanwhile waits for the answer and goes in the next call.
 */
const MOST_IN_FLIGHT = 4

type Node = QueuedTask<any>

/** One call in flight: the tasks it asks a start for, in queue order, under the policy then in force. */
interface Call {
  readonly nodes: readonly Node[]
  readonly costs: readonly Cost[]
  readonly policy: LimitPolicy
  /** The limiter's time of asking: what the grants' starts are restamped and given back by. */
  readonly at: number
  /** Set for a lighter task tried past a head that waits for a budget: the head's wait. */
  readonly headWait: number | undefined
  /** BatchedDrain.#changes when it was asked. */
  readonly changes: number
}

/** What the Scheduler lends the drain: its queue, its policy, and how it starts, fails and sleeps. */
export interface DrainHost {
  readonly queue: PriorityQueue<Node>
  readonly policy: LimitPolicy
  readonly running: number
  /** Closed, or held by pause(): nothing may start. */
  readonly stopped: boolean
  /** Starts `node`, granted by the call asked at `stampedAt`. */
  start(node: Node, stampedAt: number): void
  /** Rejects `node` and takes it out of the queue. */
  fail(node: Node, error: unknown): void
  /** Rejects `node` if setRate lowered a limit below its cost since it was queued (true then). */
  refuseCostly(node: Node): boolean
  /** A lighter task to try before `head`, which waits `wait` for a budget (see Overtaking). */
  lighter(head: Node, wait: number, now: number): Node | undefined
  /** Wakes the drain (Scheduler.drain) after `wait` ms; Infinity: when a slot is released. */
  sleep(wait: number): void
  afterChange(): void
}

/**
 * The Scheduler's loop for a store that answers over the network (Redis): it asks for the starts of
 * several queued tasks in one call (acquireMany), and while the store grants all it asks for, it
 * sends the next call before the last one answered. Grants always go to the head of the queue, so
 * the order holds whatever answers when: a grant whose task has left the queue (aborted), or that
 * could only start a task behind the head, or came while the limiter was paused or a rate was
 * added, goes back to the store (giveBack). Once the store says "wait", nothing is asked until
 * that time (or a release, a wake, a new head): no round trip while rate-limited but the one due.
 */
export class BatchedDrain {
  readonly #store: LimiterStore
  readonly #key: string
  readonly #clock: Clock
  readonly #host: DrainHost
  #calls = 0
  /** Tasks asked for by the calls in flight: they may take that many slots. */
  #asked = 0
  /** The head the store last said must wait: nothing is asked while it is still the head. */
  #waitingFor: Node | undefined
  /** The last answer granted MOST_PER_CALL starts: a next call may go before it answers. */
  #flowing = false
  #pumpQueued = false
  /** Counts retry(): a refusal asked for before the last change may be out of date. */
  #changes = 0

  constructor(store: LimiterStore, key: string, clock: Clock, host: DrainHost) {
    this.#store = store
    this.#key = key
    this.#clock = clock
    this.#host = host
  }

  /** Something changed (a release, a wake, a timer, the policy): ask for the head again. */
  retry(): void {
    this.#changes++
    this.#waitingFor = undefined
    this.pump()
  }

  /**
   * Asks for what may be asked now, once the current turn's tasks are queued (tasks submitted in a
   * loop go in one call).
   */
  pump(): void {
    if (this.#pumpQueued) return
    this.#pumpQueued = true
    queueMicrotask(this.#pumpNow)
  }

  readonly #pumpNow = (): void => {
    this.#pumpQueued = false
    const host = this.#host
    while (!host.stopped && (this.#calls === 0 || (this.#flowing && this.#calls < MOST_IN_FLIGHT))) {
      if (this.#waitingFor !== undefined && this.#waitingFor === this.#host.queue.peek()) break
      const call = this.#nextCall()
      // Only a full call goes before the last one answered (see MOST_IN_FLIGHT).
      if (!call || (this.#calls > 0 && call.nodes.length < MOST_PER_CALL)) break
      this.#ask(call)
    }
    host.afterChange()
  }

  /**
   * The first queued tasks not asked for yet: as many as the slots this process may still take,
   * within WINDOW_SHARE of every rate.
   */
  #nextCall(): Call | undefined {
    const { policy, queue } = this.#host
    let room = Math.min(MOST_PER_CALL, policy.concurrency - this.#host.running - this.#asked)
    if (this.#store.acquireMany === undefined) room = Math.min(room, 1)
    const { rates } = policy
    const shares = rates.map(() => 0)
    const nodes: Node[] = []
    for (let node = queue.peek(); node && nodes.length < room;) {
      const next = queue.after(node)
      if (!node.asked && !this.#host.refuseCostly(node)) {
        const fits = rates.every(
          (rate, i) => shares[i]! + costIn(node!.cost, rate) <= rate.limit * WINDOW_SHARE,
        )
        if (!fits && nodes.length > 0) break
        for (let i = 0; i < rates.length; i++) shares[i]! += costIn(node.cost, rates[i]!)
        nodes.push(node)
      }
      node = next
    }
    if (nodes.length === 0) return undefined
    const costs = nodes.map((node) => node.cost)
    return { nodes, costs, policy, at: this.#clock.now(), headWait: undefined, changes: this.#changes }
  }

  #ask(call: Call): void {
    this.#calls++
    this.#asked += call.nodes.length
    for (const node of call.nodes) node.asked = true
    this.#admit(call).then(
      (admission) => this.#answered(call, admission),
      (error: unknown) => this.#failed(call, error),
    )
  }

  async #admit({ policy, costs, at }: Call): Promise<Admission> {
    const store = this.#store
    if (store.acquireMany) return store.acquireMany(this.#key, policy, costs, at)
    const wait = await store.acquire(this.#key, policy, costs[0]!, at)
    return { granted: wait === 0 ? 1 : 0, wait }
  }

  #settled(call: Call): void {
    this.#calls--
    this.#asked -= call.nodes.length
    for (const node of call.nodes) node.asked = false
  }

  /**
   * The store cannot say whether a start is allowed: the first task fails rather than exceed a
   * quota, and the others are asked for again (each fails in turn if the store stays away).
   */
  #failed(call: Call, error: unknown): void {
    this.#settled(call)
    const first = call.nodes[0]!
    if (first.queued) this.#host.fail(first, error)
    this.pump()
  }

  #answered(call: Call, { granted, wait }: Admission): void {
    this.#settled(call)
    const host = this.#host
    const unused: Cost[] = []
    for (let i = 0; i < granted; i++) {
      // Checked at each grant: a task may pause the limiter or change its limits as it starts.
      const policy = host.policy
      const node =
        host.stopped || host.running >= policy.concurrency || countedTooLittle(call.policy, policy)
          ? undefined
          : this.#taker(call, i)
      if (node) host.start(node, call.at)
      else unused.push(call.costs[i]!)
    }
    if (unused.length > 0) this.#giveBack(call, unused)
    this.#flowing = granted === MOST_PER_CALL
    if (granted === call.nodes.length) this.#waitingFor = undefined
    else this.#refused(call, call.nodes[granted]!, wait)
    this.pump()
  }

  /** The task a grant of `call` starts: the head, if it costs what the grant was for. */
  #taker(call: Call, i: number): Node | undefined {
    if (call.headWait !== undefined) {
      const lighter = call.nodes[0]!
      return lighter.queued ? lighter : undefined
    }
    const head = this.#host.queue.peek()
    return head && sameCost(head.cost, call.costs[i]!) ? head : undefined
  }

  /** The store refused `refused` for `wait` ms: the head sleeps that long, if `refused` is the head. */
  #refused(call: Call, refused: Node, wait: number): void {
    // A release or a wake came while the call was on its way: the refusal may predate it.
    if (call.changes !== this.#changes) return
    const head = this.#host.queue.peek()
    if (call.headWait !== undefined) {
      // The lighter task past the head cannot start either: the head asks again at the sooner time.
      this.#waitingFor = head
      this.#host.sleep(Math.min(wait, call.headWait))
      return
    }
    // Another task is the head now (a higher priority, or `refused` left): its wait is unknown.
    if (wait === 0 || refused !== head) return
    this.#waitingFor = refused
    const lighter = this.#calls === 0 ? this.#lighter(refused, wait, call.at) : undefined
    if (lighter) {
      const policy = this.#host.policy
      const at = this.#clock.now()
      this.#ask({
        nodes: [lighter],
        costs: [lighter.cost],
        policy,
        at,
        headWait: wait,
        changes: this.#changes,
      })
    } else {
      this.#host.sleep(wait)
    }
  }

  #lighter(head: Node, wait: number, now: number): Node | undefined {
    if (wait === Number.POSITIVE_INFINITY) return undefined
    const lighter = this.#host.lighter(head, wait, now)
    return lighter && !lighter.asked ? lighter : undefined
  }

  /** Starts granted for tasks that did not take them go back, best effort (else they expire or count). */
  #giveBack(call: Call, costs: readonly Cost[]): void {
    const store = this.#store
    const key = this.#key
    const given = store.giveBack
      ? store.giveBack(key, call.policy, call.at, costs)
      : Promise.all(costs.map(() => store.release(key, call.policy, this.#clock.now())))
    Promise.resolve(given).catch(noop)
  }
}

/**
 * Whether a start granted under `asked` may not be counted by every rate of `now`: setRate added
 * a rate (a quota just learned) while the store answered. It goes back (giveBack takes it out of
 * the rates both share) and is asked again. A policy re-made with the same rates keeps it (a
 * lowered concurrency is checked apart: the slots running then).
 */
function countedTooLittle(asked: LimitPolicy, now: LimitPolicy): boolean {
  if (asked === now) return false
  const counted = new Set(asked.rates.map(rateName))
  return now.rates.some((rate) => !counted.has(rateName(rate)))
}
