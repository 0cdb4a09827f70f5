import { hash, randomBytes } from 'node:crypto'
import type { InputEntry } from './input/entry.js'

/** 16 hex digits (64 bits) of SHA-256 over the parts, each length-prefixed so no two lists hash alike. */
export function digest(parts: readonly (string | Uint8Array)[]): string {
  // Hashed in one call (no Hash object per line): the same bytes as hashing prefix and part in turn.
  const data = parts.every((part) => typeof part === 'string')
    ? parts.map((part) => `${Buffer.byteLength(part)}:${part}`).join('')
    : Buffer.concat(
        parts.flatMap((part) =>
          typeof part === 'string'
            ? [Buffer.from(`${Buffer.byteLength(part)}:${part}`)]
            : [Buffer.from(`${part.length}:`), part],
        ),
      )
  return hash('sha256', data, 'hex').slice(0, 16)
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
