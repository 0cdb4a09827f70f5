/**
 * Event times in the order they happened (never decreasing), dropped from the front as they leave a
 * window. A power-of-two ring that doubles when full, so push and drop are O(1) amortized and a
 * steady stream of events allocates nothing.
 */
export class TimeDeque {
  #times = new Float64Array(16)
  #head = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  /** The earliest time still held; undefined when empty. */
  oldest(): number | undefined {
    return this.#size === 0 ? undefined : this.#times[this.#head]
  }

  push(time: number): void {
    if (this.#size === this.#times.length) this.#grow()
    this.#times[(this.#head + this.#size) & (this.#times.length - 1)] = time
    this.#size++
  }

  /** Drops every time <= `cutoff` (they are at the front, since times never decrease). */
  dropThrough(cutoff: number): void {
    const mask = this.#times.length - 1
    while (this.#size > 0 && this.#times[this.#head]! <= cutoff) {
      this.#head = (this.#head + 1) & mask
      this.#size--
    }
  }

  clear(): void {
    this.#head = 0
    this.#size = 0
  }

  #grow(): void {
    const old = this.#times
    const grown = new Float64Array(old.length * 2)
    for (let i = 0; i < this.#size; i++) grown[i] = old[(this.#head + i) & (old.length - 1)]!
    this.#times = grown
    this.#head = 0
  }
}
