/** Someone waiting for the queue to hold fewer than `below` tasks, and with `idle`, for nothing to run. */
interface Waiter {
  readonly below: number
  readonly idle: boolean
  readonly resolve: () => void
}

/**
 * The awaitable states of a Limiter's queue: fewer than n waiting (a producer's backpressure),
 * empty, idle (nothing waiting or running). Checked after every change, and only while someone waits.
 */
export class QueueWaiters {
  #waiting: Waiter[] = []

  get any(): boolean {
    return this.#waiting.length > 0
  }

  /** Resolves once the queue holds fewer than `below` tasks (and, with `idle`, none runs). */
  wait(below: number, idle: boolean, queued: number, running: number): Promise<void> {
    if (met(below, idle, queued, running)) return Promise.resolve()
    return new Promise((resolve) => this.#waiting.push({ below, idle, resolve }))
  }

  /** Resolves every waiter whose state has come. */
  notify(queued: number, running: number): void {
    const waiting = this.#waiting
    let kept = 0
    for (const waiter of waiting) {
      if (met(waiter.below, waiter.idle, queued, running)) waiter.resolve()
      else waiting[kept++] = waiter
    }
    waiting.length = kept
  }
}

function met(below: number, idle: boolean, queued: number, running: number): boolean {
  return queued < below && (!idle || running === 0)
}
