import type { RequestSpec } from '../http/spec.js'
import type { Cost } from '../limit/cost.js'
import type { Pulled, Source } from '../run/source.js'
import { type CostField, withCostFields } from './cost-field.js'
import { entryHash } from './fingerprint.js'
import { type InputEntry, InputError } from './input/entry.js'
import type { DoneSet } from './output/done-set.js'
import { errorRecord, type ResultRecord } from './output/record.js'
import type { InputCheck } from './output/resume-check.js'
import type { ListStart } from './pages/follow.js'
import { firstPage } from './pages/next-url.js'
import type { ListResume } from './pages/progress.js'
import { type PreparedLine, prepareLine, type RequestDefaults } from './requests.js'
import { takeUntil } from './take-until.js'

export interface Shard {
  /** From 1. */
  index: number
  count: number
}

export function inShard(line: number, shard: Shard | undefined): boolean {
  return !shard || (line - 1) % shard.count === shard.index - 1
}

export interface JobInputSettings {
  shard: Shard | undefined
  costFields: readonly CostField[]
  /** --paginate: each request starts a list (see `lists`). */
  paginated: boolean
  requests: RequestDefaults
  /** Lines already in the output (--resume): skipped. */
  done: DoneSet
  /** --resume: every done line must still hold what its result was run from (see each line, then the end). */
  check: InputCheck
  /** --paginate --resume: where each list started earlier goes on, by line. */
  resumedLists: ReadonlyMap<number, ListResume>
  /** The job is stopping: nothing more is pulled. */
  stopping: () => boolean
  /** Writes the record of a line that is no request (undefined, or a promise to wait for on a full pipe). */
  write: (record: ResultRecord) => Promise<void> | undefined
  /** A line became a request. */
  onRequest: () => void
}

/**
 * The job's input as the client pulls it: each entry becomes its request when pulled, not before (a
 * stop leaves the rest unread), from chunks read as they are needed: no promise per line. Keeps what
 * the job reports afterwards: the lines taken, the last one read, whether the input ended.
 */
export class JobInput {
  /** Stream positions -> input lines, for the requests in flight only. */
  readonly pending = new Map<number, PreparedLine>()
  /** --paginate: stream positions -> the lists not ended yet. */
  readonly lists = new Map<number, ListStart>()
  /** This job's lines read (each is written, or not run). */
  taken = 0
  lastRead = 0
  inputEnded = false
  #position = 0
  readonly #settings: JobInputSettings

  constructor(settings: JobInputSettings) {
    this.#settings = settings
  }

  /** The client's Source over the input's chunks, reading until `stopped` aborts. */
  source(chunks: AsyncIterable<InputEntry[]>, stopped: AbortSignal): Source<RequestSpec> {
    const reader = takeUntil(chunks, stopped)[Symbol.asyncIterator]()
    let chunk: readonly InputEntry[] = []
    let next = 0
    let reading: Promise<void> | undefined
    let ended = false
    let closed = false
    // Workers pull at once: the first to find the chunk used up reads the next, the others wait for it.
    const read = () =>
      (reading ??= reader.next().then((step) => {
        reading = undefined
        if (step.done) ended = true
        else {
          chunk = step.value
          next = 0
        }
      }))
    // A pull that throws (the output failed, the input changed under --resume) ends the pulling: the
    // workers waiting on the same read must not start lines after it.
    const fail = (error: unknown): never => {
      closed = true
      throw error
    }
    const pull = (): Pulled<RequestSpec> | Promise<Pulled<RequestSpec>> => {
      try {
        for (;;) {
          if (this.#settings.stopping() || closed) return undefined
          if (next === chunk.length) {
            if (!ended) return read().then(pull, fail)
            if (!this.inputEnded) this.#settings.check.end()
            this.inputEnded = true
            return undefined
          }
          const taken = this.#take(chunk[next++]!)
          if (taken === undefined) continue
          return 'item' in taken ? taken : taken.then(pull, fail)
        }
      } catch (error) {
        return fail(error)
      }
    }
    return {
      next: pull,
      stop: () => {
        closed = true
      },
      close: async () => {
        closed = true
        if (reading) await reading.catch(() => {})
        if (!ended) {
          ended = true
          await reader.return(undefined)
        }
      },
    }
  }

  /**
   * One entry: its request, or nothing (a line of another shard, done, or no request: its record is
   * written, and a promise is what to wait for before the next pull).
   */
  #take(entry: InputEntry): Pulled<RequestSpec> | Promise<void> | undefined {
    const settings = this.#settings
    const { requests } = settings
    this.lastRead = entry.line
    const at = { index: entry.line, hash: entryHash(entry) }
    settings.check.see(at.index, at.hash)
    if (!inShard(entry.line, settings.shard) || settings.done.has(entry.line)) return undefined
    this.taken++
    if (entry.error)
      return settings.write(errorRecord(entry.error, { id: entry.line, ...at }, requests.secrets))
    const line = prepareLine(entry.spec, at, requests)
    const spec = withCostFields(line.spec, settings.costFields, entry.line)
    if (spec instanceof InputError) return settings.write(errorRecord(spec, line.meta, line.secrets))
    settings.onRequest()
    const index = this.#position++
    if (settings.paginated) {
      const cost = (spec as { cost?: Cost }).cost
      const first = firstPage(spec, settings.resumedLists.get(entry.line), requests.base, entry.line)
      this.lists.set(index, { ...line, cost, ...first })
      return { item: first.spec, index }
    }
    this.pending.set(index, line)
    return { item: spec, index }
  }
}
