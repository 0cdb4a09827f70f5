import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { describeValue, InvalidOptionError, type StoreUnavailableError } from '../../errors.js'
import { type Duration, parseDuration } from '../../limit/units.js'
import type { JobLocation } from './keys.js'

/** A line handed to `handle`. */
export interface WorkLine {
  /** Its number in the input, from 1. */
  line: number
  data: string
  hash: string
  /**
   * Set on a line whose worker died (its lease ran out) while it held it: how many workers died
   * running it alone. Such a line runs with nothing else in flight in its worker; see `poisonAfter`.
   */
  falls?: number
}

/** What `handle` made of a line: the text kept as its result, and whether it counts as ok or failed. */
export interface WorkResult {
  ok: boolean
  result: string
}

export interface WorkEvents {
  /** Redis cannot be reached: no line starts until it can; results wait in memory. */
  outage?(error: StoreUnavailableError): void
  /** Redis answers again after an outage. */
  back?(): void
  /** Others took over `count` of this worker's lines: it was silent longer than its lease. */
  lost?(count: number): void
  /** A batch of results was recorded: where the job stands now. */
  recorded?(progress: JobProgress): void
}

export interface JobProgress {
  /** Lines in the job; null while submit is still adding them. */
  total: number | null
  /** Lines of the job with a result. */
  done: number
  /** Of those, the ones this worker recorded. */
  mine: number
  /** Lines this worker ran whose result another had recorded first. */
  duplicates: number
}

export interface WorkOptions extends JobLocation {
  /**
   * Makes a line's result. A rejection with the code STORE_UNAVAILABLE (the shared limiter's Redis
   * is away) runs the line again once Redis answers; any other rejection stops the worker, which
   * rejects with it after recording what finished.
   */
  handle(line: WorkLine): Promise<WorkResult>
  /** Lines handled at once; as many more are claimed ahead. @default 16 */
  concurrency?: number
  /**
   * How long this worker may be silent before others take over the lines it claimed. It renews the
   * lease every third of it, however long its lines take, so only a dead or frozen worker loses its lines.
   * @default '30s'
   */
  lease?: Duration
  /** The worker's name in `jobStatus`. @default '<host>-<pid>-<random>' */
  name?: string
  /** Stops claiming: the lines in hand finish and are recorded, the ones not started go back to the others. */
  signal?: AbortSignal
  /**
   * A line that ended the workers running it (a crash, an out-of-memory kill) would otherwise go
   * round the fleet for ever. The lines of a worker that died are suspects, each run alone in its
   * next worker; one whose worker dies again while running it alone has fallen once. At this many
   * falls it is not run again: `poisoned` makes its result. @default 2
   */
  poisonAfter?: number
  /** The result recorded for a line that fell `poisonAfter` times. @default a failed `{ line, error: { code: 'POISON_LINE', message } }` */
  poisoned?(line: WorkLine): WorkResult
  on?: WorkEvents
}

export interface WorkOutcome {
  worker: string
  /** Lines whose result this worker recorded first. */
  done: number
  /** Lines this worker finished after another worker's result for them was recorded (not kept). */
  duplicates: number
  /** Every line of the job has a result. */
  complete: boolean
  /** Results this worker could not record before it stopped (Redis away): their lines run again elsewhere. */
  unrecorded: number
}

/** The options a worker runs with, checked. */
export interface WorkSettings {
  concurrency: number
  lease: number
  name: string
  poisonAfter: number
  poisoned: (line: WorkLine) => WorkResult
}

/** The options a worker runs with, checked, naming the option at fault. */
export function resolveWorkOptions(options: WorkOptions): WorkSettings {
  if (typeof options.handle !== 'function')
    throw new InvalidOptionError(
      `workJob: option \`handle\` must be a function, got ${describeValue(options.handle)}`,
    )
  const concurrency = options.concurrency ?? 16
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new InvalidOptionError(
      `workJob: option \`concurrency\` must be a whole number >= 1, got ${describeValue(concurrency)}`,
    )
  const lease = parseDuration(options.lease ?? 30_000, 'workJob: option `lease`')
  if (lease < 300)
    throw new InvalidOptionError(
      `workJob: option \`lease\` must be at least 300 ms, got ${describeValue(options.lease)}`,
    )
  const name = options.name ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  if (typeof name !== 'string' || name === '' || /\s/.test(name))
    throw new InvalidOptionError(
      `workJob: option \`name\` must be a non-empty string without spaces, got ${describeValue(name)}`,
    )
  const poisonAfter = options.poisonAfter ?? 2
  if (!Number.isInteger(poisonAfter) || poisonAfter < 1)
    throw new InvalidOptionError(
      `workJob: option \`poisonAfter\` must be a whole number >= 1, got ${describeValue(poisonAfter)}`,
    )
  const poisoned = options.poisoned ?? poisonedLine
  if (typeof poisoned !== 'function')
    throw new InvalidOptionError(
      `workJob: option \`poisoned\` must be a function, got ${describeValue(options.poisoned)}`,
    )
  return { concurrency, lease, name, poisonAfter, poisoned }
}

/** What `handle` (or `poisoned`) made of line `line`, if it is a WorkResult; else an error saying what it was. */
export function checkedResult(result: unknown, from: 'handle' | 'poisoned', line: number): WorkResult {
  const { result: text } = (result ?? {}) as { result?: unknown }
  if (typeof result === 'object' && result !== null && typeof text === 'string') return result as WorkResult
  throw new InvalidOptionError(
    `workJob: ${from} must give { ok, result: string }, got ${describeValue(result)} for line ${line}`,
  )
}

/** The default result of a line that ended its workers: failed, saying so. */
function poisonedLine({ line, falls }: WorkLine): WorkResult {
  const message = `line ${line} was not run again: ${falls} workers died running it alone`
  return { ok: false, result: JSON.stringify({ line, error: { code: 'POISON_LINE', message } }) }
}
