import { systemClock, type TimerHandle } from '../../limit/clock.js'

/**
 * A sleep that something can cut short: the worker's loop sleeps until a timeout or until a line
 * finishes, a batch is recorded or the worker is stopped. A kick while nobody sleeps is kept, so
 * the next sleep returns at once and no wake-up is lost.
 */
export class Wakeup {
  #wake: (() => void) | undefined
  #kicked = false

  kick(): void {
    if (this.#wake) this.#wake()
    else this.#kicked = true
  }

  sleep(ms: number): Promise<void> {
    if (this.#kicked) {
      this.#kicked = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = () => {
        systemClock.clearTimer(timer)
        this.#wake = undefined
        resolve()
      }
      const timer: TimerHandle = systemClock.setTimer(done, ms)
      this.#wake = done
    })
  }
}
