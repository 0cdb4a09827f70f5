import { type Cost, costIn } from './cost.js'
import type { QueueNode } from './queue.js'
import type { LimitPolicy } from './store.js'

/** How many tasks behind a waiting head are looked at for a lighter one. */
const LOOK_AHEAD = 32

interface CostedNode extends QueueNode {
  readonly cost: Cost
}

/**
 * Budgets (rates in tokens...) are spent in pieces of every size. In strict FIFO order a head task
 * of 700 tokens waits while 500 are free, and such leftovers cost about a tenth of the budget when
 * costs range from 100 to 800. So a head task that waits for a budget lets the lightest task behind
 * it (among the next LOOK_AHEAD of its priority) try to start first, but only for one window of the
 * longest budget from when it began to wait: then nothing passes it, and it starts within one more
 * window. Without budgets, or for a head that costs nothing in them, the order is strict FIFO.
 */
export class Overtaking {
  #head: CostedNode | undefined
  #waitingSince = 0

  /** The task to try before `head`, which cannot start now; undefined to keep the order. */
  pick<Node extends CostedNode>(head: Node, policy: LimitPolicy, now: number): Node | undefined {
    if (typeof head.cost === 'number') return undefined
    let window = 0
    for (const rate of policy.rates) {
      if (rate.unit !== undefined) window = Math.max(window, rate.interval + policy.rateMargin)
    }
    if (head !== this.#head) {
      this.#head = head
      this.#waitingSince = now
    }
    if (now - this.#waitingSince >= window) return undefined
    let lightest: Node | undefined
    let lightestShare = budgetShare(head.cost, policy)
    let node = head.next as Node | undefined
    for (let looked = 0; node && looked < LOOK_AHEAD; looked++, node = node.next as Node | undefined) {
      const share = budgetShare(node.cost, policy)
      if (share < lightestShare) {
        lightest = node
        lightestShare = share
      }
    }
    return lightest
  }
}

/** The largest share of a budget's limit that `cost` takes (0 when it takes none). */
function budgetShare(cost: Cost, policy: LimitPolicy): number {
  let share = 0
  for (const rate of policy.rates) {
    if (rate.unit !== undefined) share = Math.max(share, costIn(cost, rate) / rate.limit)
  }
  return share
}
