import { createHash, randomBytes } from 'node:crypto'
import type { InputEntry } from './input/entry.js'

/** 16 hex digits (64 bits) of SHA-256 over the parts, each length-prefixed so no two lists hash alike. */
export function digest(parts: readonly (string | Uint8Array)[]): string {
  const hash = createHash('sha256')
  for (const part of parts) {
    hash.update(`${typeof part === 'string' ? Buffer.byteLength(part) : part.length}:`).update(part)
  }
  return hash.digest('hex').slice(0, 16)
}

/**
 * What an input line holds, written into its result as `hash`: the request it parses to (spacing
 * does not count), or why it is not one. --resume checks that every done line still holds it.
 */
export function entryHash(entry: InputEntry): string {
  return digest([entry.error ? `error: ${entry.error.message}` : JSON.stringify(entry.spec)])
}

/** A new job's id: random, so a new job (a new output, --overwrite) never reuses an old job's Idempotency-Keys. */
export function newJobId(): string {
  return randomBytes(8).toString('hex')
}
