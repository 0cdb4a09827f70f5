/** The leases of one key waiting to go back, and the promise every release among them returns. */
interface Pending {
  readonly ids: string[]
  /** The smallest cap among the policies that took them: RELEASE then wakes waiters whenever any could wait. */
  concurrency: number
  readonly sent: Promise<void>
  readonly resolve: () => void
}

/**
 * The concurrency slots this process gives back, sent together: the leases released by tasks that
 * end together (a batch of starts often ends as a batch) go back in one RELEASE per key, one round
 * trip rather than one each. Each release resolves once its RELEASE was
 * answered, or failed: a lease that could not go back is no longer renewed, and frees itself
 * within the ttl.
 */
export class Releases {
  readonly #pending = new Map<string, Pending>()
  readonly #send: (key: string, ids: readonly string[], concurrency: number) => Promise<unknown>
  #scheduled = false

  constructor(send: (key: string, ids: readonly string[], concurrency: number) => Promise<unknown>) {
    this.#send = send
  }

  release(key: string, id: string, concurrency: number): Promise<void> {
    let pending = this.#pending.get(key)
    if (!pending) {
      let resolve = () => {}
      const sent = new Promise<void>((done) => (resolve = done))
      pending = { ids: [], concurrency, sent, resolve }
      this.#pending.set(key, pending)
    }
    pending.ids.push(id)
    pending.concurrency = Math.min(pending.concurrency, concurrency)
    if (!this.#scheduled) {
      this.#scheduled = true
      // Once the tasks ending in this turn have ended (after them in the microtask queue): no delay.
      queueMicrotask(this.flush)
    }
    return pending.sent
  }

  /** Sends every release waiting now (before close); resolves once they are answered. */
  readonly flush = (): Promise<void> => {
    this.#scheduled = false
    const all = [...this.#pending]
    this.#pending.clear()
    return Promise.all(
      all.map(([key, { ids, concurrency, resolve }]) =>
        this.#send(key, ids, concurrency).then(resolve, resolve),
      ),
    ).then(() => {})
  }
}
