import { entryHash } from '../fingerprint.js'
import type { InputEntry } from '../input/entry.js'
import { UsageError } from '../usage.js'
import type { DoneSet } from './done-set.js'

/**
 * Holds a resumed input to the output it resumes. Results are keyed by line number, so one line
 * inserted or removed above a done line shifts every line after it (some never sent, others sent
 * twice, under another line's Idempotency-Key): every done line must still hold the content its
 * result was run from. `see` each entry in order, then `end`: each throws naming the first done line
 * that is not what was run. Lines after the last done one are free: appending to the input is fine.
 */
export class InputCheck {
  readonly #done: DoneSet
  readonly #out: string
  /** The first line not seen yet. */
  #next = 1

  constructor(done: DoneSet, out: string) {
    this.#done = done
    this.#out = out
  }

  see(line: number, hash: string): void {
    // Done lines between two entries are now blank or comments (or part of a CSV record).
    for (let skipped = this.#next; skipped < line; skipped++)
      if (this.#done.has(skipped)) throw this.#changed(skipped, 'it holds no request now')
    if (this.#done.has(line) && !this.#done.holds(line, hash)) throw this.#changed(line, 'it has changed')
    this.#next = line + 1
  }

  end(): void {
    const end = this.#done.end
    for (let line = this.#next; line < end; line++)
      if (this.#done.has(line)) throw this.#changed(line, 'the input now ends before it')
  }

  #changed(line: number, why: string): UsageError {
    return new UsageError(
      `--resume: input line ${line} is not the line its result in ${this.#out} was run from (${why}): the input was edited since, and lines changed, inserted or removed above a line shift it. Resuming would skip some requests and send others twice. Restore the input, or run it as a new job (another --out, or --overwrite)`,
    )
  }
}

/** Checks a whole input before anything is sent (a file can be read twice; stdin is checked as it is read). */
export async function checkResumedInput(
  entries: AsyncIterable<InputEntry>,
  done: DoneSet,
  out: string,
): Promise<void> {
  const check = new InputCheck(done, out)
  for await (const entry of entries) check.see(entry.line, entryHash(entry))
  check.end()
}
