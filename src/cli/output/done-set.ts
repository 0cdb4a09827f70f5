/**
 * The input lines already in the output, each with (32 bits of) the hash of the content it was run
 * from, so --resume can tell an unchanged line from an edited one: 4 bytes per line, 4 MB per million
 * lines instead of a Map's tens of megabytes.
 */
export class DoneSet {
  /** 0: not done; else the content hash's first 32 bits, with the low bit set so it is never 0. */
  #hashes = new Uint32Array(1024)
  #size = 0

  get size(): number {
    return this.#size
  }

  /** One past the highest done line. */
  get end(): number {
    for (let index = this.#hashes.length - 1; index > 0; index--)
      if (this.#hashes[index] !== 0) return index + 1
    return 1
  }

  has(index: number): boolean {
    return index < this.#hashes.length && this.#hashes[index] !== 0
  }

  /** Whether line `index` is done and was run from content with this hash. */
  holds(index: number, hash: string): boolean {
    return this.has(index) && this.#hashes[index] === fingerprint(hash)
  }

  add(index: number, hash: string): void {
    if (index >= this.#hashes.length) {
      const grown = new Uint32Array(Math.max(index + 1, this.#hashes.length * 2))
      grown.set(this.#hashes)
      this.#hashes = grown
    }
    if (this.#hashes[index] === 0) this.#size++
    this.#hashes[index] = fingerprint(hash)
  }
}

function fingerprint(hash: string): number {
  return (Number.parseInt(hash.slice(0, 8), 16) | 1) >>> 0
}
