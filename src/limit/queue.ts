/** A queued entry: linked into its priority's list so that an abort removes it in O(1). */
export interface QueueNode {
  readonly priority: number
  prev: QueueNode | undefined
  next: QueueNode | undefined
  queued: boolean
}

interface Level<T extends QueueNode> {
  priority: number
  head: T | undefined
  tail: T | undefined
}

/**
 * Waiting tasks: highest priority first, FIFO within a priority. A level per priority that has
 * waiting tasks, in an array sorted by priority (usually one level, found by binary search).
 */
export class PriorityQueue<T extends QueueNode> {
  readonly #levels: Level<T>[] = []
  #size = 0

  get size(): number {
    return this.#size
  }

  push(node: T): void {
    const level = this.#level(node.priority)
    node.prev = level.tail
    node.next = undefined
    if (level.tail) level.tail.next = node
    else level.head = node
    level.tail = node
    node.queued = true
    this.#size++
  }

  peek(): T | undefined {
    if (this.#size === 0) return undefined
    for (const level of this.#levels) if (level.head) return level.head
    return undefined
  }

  /** The node after `node` in the queue's order: the next of its priority, else the head of the next level down. */
  after(node: T): T | undefined {
    if (node.next) return node.next as T
    const levels = this.#levels
    for (let index = this.#find(node.priority) + 1; index < levels.length; index++) {
      if (levels[index]!.head) return levels[index]!.head
    }
    return undefined
  }

  remove(node: T): void {
    if (!node.queued) return
    const index = this.#find(node.priority)
    const level = this.#levels[index]!
    if (node.prev) node.prev.next = node.next
    else level.head = node.next as T | undefined
    if (node.next) node.next.prev = node.prev
    else level.tail = node.prev as T | undefined
    node.prev = node.next = undefined
    node.queued = false
    this.#size--
    // An empty level goes, so that many one-off priorities do not slow every later lookup.
    if (!level.head) this.#levels.splice(index, 1)
  }

  /** Removes and returns every node, highest priority first. */
  drain(): T[] {
    const nodes: T[] = []
    for (let node = this.peek(); node; node = this.peek()) {
      this.remove(node)
      nodes.push(node)
    }
    return nodes
  }

  #level(priority: number): Level<T> {
    const index = this.#find(priority)
    const found = this.#levels[index]
    if (found?.priority === priority) return found
    const created: Level<T> = { priority, head: undefined, tail: undefined }
    this.#levels.splice(index, 0, created)
    return created
  }

  /** Where `priority` is, or would go, in the levels sorted from highest to lowest. */
  #find(priority: number): number {
    const levels = this.#levels
    let low = 0
    let high = levels.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (levels[middle]!.priority > priority) low = middle + 1
      else high = middle
    }
    return low
  }
}
