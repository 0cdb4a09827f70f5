/**
 * The input line numbers already in the output: one bit per line, so a million-line resume costs
 * 125 KB instead of a Set's tens of megabytes.
 */
export class DoneSet {
  #bits = new Uint8Array(1024)
  #size = 0

  get size(): number {
    return this.#size
  }

  has(index: number): boolean {
    const byte = index >>> 3
    return byte < this.#bits.length && (this.#bits[byte]! & (1 << (index & 7))) !== 0
  }

  add(index: number): void {
    const byte = index >>> 3
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.#bits.length * 2))
      grown.set(this.#bits)
      this.#bits = grown
    }
    const mask = 1 << (index & 7)
    if ((this.#bits[byte]! & mask) === 0) {
      this.#bits[byte]! |= mask
      this.#size++
    }
  }
}
