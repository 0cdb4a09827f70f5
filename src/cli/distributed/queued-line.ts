import type { JobLine } from '../../redis/job/submit.js'
import type { RequestSpec } from '../../http/spec.js'
import { entryHash } from '../fingerprint.js'
import { type InputEntry, InputError } from '../input/entry.js'

/**
 * An input entry as a job's line holds it: the request it parses to (so workers need no input
 * flags), or why it is not one; and the same hash `volley run` writes into its result.
 */
export function queuedLine(entry: InputEntry): JobLine {
  const data = entry.error
    ? JSON.stringify({ error: entry.error.message.replace(/^line \d+: /, '') })
    : JSON.stringify({ spec: entry.spec })
  return { data, hash: entryHash(entry) }
}

/** The entry back from a job's line. */
export function entryOf(line: number, data: string): InputEntry {
  const parsed = JSON.parse(data) as { spec?: RequestSpec; error?: string }
  if (parsed.error !== undefined) return { line, error: new InputError(line, parsed.error) }
  return { line, spec: parsed.spec as RequestSpec }
}
