/**
 * A bounded queue between producers (the lists of `paginateAll`) and one reader: `push` answers a
 * promise to wait on while the reader is `highWater` values behind, so memory stays bounded however
 * slowly the results are read.
 */
export class Channel<T> {
  readonly #highWater: number
  readonly #values: T[] = []
  readonly #readers: (() => void)[] = []
  #room: { promise: Promise<void>; release: () => void } | undefined
  #ended = false
  #failure: { error: unknown } | undefined

  constructor(highWater: number) {
    this.#highWater = highWater
  }

  /** Queues a value; the promise, when there is one, settles once the reader has made room. */
  push(value: T): Promise<void> | undefined {
    if (this.#ended) return undefined
    this.#values.push(value)
    this.#wakeReaders()
    if (this.#values.length < this.#highWater) return undefined
    if (!this.#room) {
      let release!: () => void
      const promise = new Promise<void>((resolve) => (release = resolve))
      this.#room = { promise, release }
    }
    return this.#room.promise
  }

  /** No more values: the reader gets what is queued, then the end (or `failure`, thrown). */
  end(failure?: { error: unknown }): void {
    this.#ended = true
    this.#failure ??= failure
    this.#wakeReaders()
    this.#releaseRoom()
  }

  /** The reader left: queued values are dropped and producers waiting for room go on (their pushes are dropped). */
  close(): void {
    this.#values.length = 0
    this.end()
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    while (this.#values.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => this.#readers.push(resolve))
    }
    if (this.#values.length > 0) {
      const value = this.#values.shift()!
      if (this.#values.length <= this.#highWater / 2) this.#releaseRoom()
      return { done: false, value }
    }
    const failure = this.#failure
    this.#failure = undefined
    if (failure) throw failure.error
    return { done: true, value: undefined }
  }

  #wakeReaders(): void {
    for (const wake of this.#readers.splice(0)) wake()
  }

  #releaseRoom(): void {
    const room = this.#room
    this.#room = undefined
    room?.release()
  }
}
