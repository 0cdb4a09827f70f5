import { hash, randomBytes } from 'node:crypto'
import type { InputEntry } from './input/entry.js'

/** 16 hex digits (64 bits) of SHA-256 over the parts, each length-prefixed so no two lists hash alike. */
export function digest(parts: readonly (string | Uint8Array)[]): string {
  // Hashed in one call (no Hash object per line): the same bytes as hashing prefix and part in turn.
  return hash('sha256', framed(parts), 'hex').slice(0, 16)
}

/** The bytes `digest` hashes: each part after its length and ':'. */
function framed(parts: readonly (string | Uint8Array)[]): string | Buffer {
  // One string is every input line's hash: no array built for it.
  if (parts.length === 1 && typeof parts[0] === 'string') return prefixed(parts[0])
  if (parts.every((part) => typeof part === 'string')) return parts.map(prefixed).join('')
  return Buffer.concat(
    parts.flatMap((part) =>
      typeof part === 'string' ? [Buffer.from(prefixed(part))] : [Buffer.from(`${part.length}:`), part],
    ),
  )
}

function prefixed(part: string): string {
  return `${Buffer.byteLength(part)}:${part}`
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
