/**
 * What one task came to: a discriminated union, so `if (r.ok)` narrows without `instanceof` guesses.
 * `E` is what the error can be: a task may throw anything, so Error; the HTTP client's results hold
 * its ClientError union, which a `switch (r.error.code)` narrows to the class with its fields.
 */
export type Result<T, I = unknown, E extends Error = Error> =
  { ok: true; value: T; index: number; item: I } | { ok: false; error: E; index: number; item: I }

/** The second argument of every task function run by `all`, `stream` and `group`. */
export interface ItemContext {
  /** Aborts when the caller's signal does, when a `group` fails, or when a `stream` consumer stops reading. */
  signal: AbortSignal
  /** The item's position in the input, from 0. */
  index: number
}

/** Tasks may throw anything; results always hold an Error (a non-Error is wrapped, and kept as `cause`). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  return new Error(`Task threw a non-Error value: ${String(thrown)}`, { cause: thrown })
}
