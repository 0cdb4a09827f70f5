import { JobError, type StoreUnavailableError } from '../../errors.js'
import { RedisConnection } from '../connection.js'
import { entryId, keyList, lineOf, type OpenJob, openJob } from './keys.js'
import { ALONE, CLAIM, HELD, RECORD, LEAVE } from './scripts.js'
import { Wakeup } from './wakeup.js'
import {
  checkedResult,
  resolveWorkOptions,
  type WorkEvents,
  type WorkLine,
  type WorkOptions,
  type WorkOutcome,
  type WorkResult,
  type WorkSettings,
} from './work-options.js'

const IDLE_POLL = { min: 20, max: 500 }
const RETRY_REDIS_MS = 1_000

/** CLAIM's answer: 'ok', lines lost, total, done, the entries claimed ([id, fields]), the job's epoch. */
type ClaimReply = [string, number, number, number, [string, string[]][], string]
/** RECORD's answer: 'ok', lines lost, total, done, results recorded first, duplicates. */
type RecordReply = [string, number, number, number, number, number]

/**
 * Joins a job as a worker and resolves when every line of the job has a result (or `signal` stops
 * it). Lines are claimed through the stream's consumer group, each result recorded once (the first
 * wins; a line run twice after a takeover is counted, not kept), and the lines of a worker silent
 * past its lease are taken over by the others.
 */
export async function workJob(options: WorkOptions): Promise<WorkOutcome> {
  const job = openJob(options, 'workJob')
  let worker: JobWorker
  try {
    worker = new JobWorker(job, options)
  } catch (error) {
    await job.connection.close()
    throw error
  }
  return worker.run()
}

class JobWorker {
  readonly #job: OpenJob
  readonly #keys: string[]
  readonly #handle: (line: WorkLine) => Promise<WorkResult>
  readonly #settings: WorkSettings
  readonly #signal: AbortSignal | undefined
  readonly #on: WorkEvents
  /** Claimed, not started. */
  #buffer: WorkLine[] = []
  #inFlight = 0
  /** The suspect running, or whose result is not recorded yet: nothing else starts meanwhile. */
  #alone: number | undefined
  /** Checks under way of which claimed lines others took over. */
  #verifying = 0
  #results: (string | number)[][] = []
  /** The first results that a call whose reply was lost sent: Redis may have recorded them then. */
  #maybeRecorded = 0
  #recording: Promise<void> | undefined
  #outage: StoreUnavailableError | undefined
  #fatal: unknown
  #total = -1
  #done = 0
  #mine = 0
  #duplicates = 0
  #lastBeat = 0
  /** The job's epoch, learned from the first answer: a job submitted anew under the name is another job. */
  #epoch = ''
  /** The job is not in Redis (any more): nothing can be recorded. */
  #jobGone = false
  readonly #wakeup = new Wakeup()

  constructor(job: OpenJob, options: WorkOptions) {
    this.#settings = resolveWorkOptions(options)
    this.#job = job
    this.#keys = keyList(job.keys)
    this.#handle = options.handle
    this.#signal = options.signal
    this.#on = options.on ?? {}
    this.#signal?.addEventListener('abort', () => this.#wakeup.kick(), { once: true })
  }

  async run(): Promise<WorkOutcome> {
    try {
      const complete = await this.#claimUntilDone().catch((error: unknown) => {
        this.#fatal ??= error
        return false
      })
      await this.#drain()
      if (this.#fatal !== undefined) throw this.#fatal
      return {
        worker: this.#settings.name,
        done: this.#mine,
        duplicates: this.#duplicates,
        complete: complete || this.#complete(),
        unrecorded: this.#results.length,
      }
    } finally {
      await this.#job.connection.close()
    }
  }

  /** Claims and starts lines until the job is complete (true), or the worker stops (false). */
  async #claimUntilDone(): Promise<boolean> {
    let idle = IDLE_POLL.min
    for (;;) {
      if (this.#fatal !== undefined || this.#signal?.aborted) return false
      if (this.#outage) {
        await this.#waitForRedis()
        continue
      }
      const held = this.#buffer.length + this.#inFlight
      const claiming = held <= this.#settings.concurrency
      if (claiming || Date.now() - this.#lastBeat > this.#settings.lease / 3) {
        const holdsNothing = held === 0 && this.#results.length === 0 && !this.#recording
        const entries = await this.#claim(claiming ? 2 * this.#settings.concurrency - held : 0, holdsNothing)
        if (entries === undefined) continue
        // Complete: what is still buffered has its results from others (drain ends the rest).
        if (this.#complete()) return true
        this.#buffer.push(...entries)
        this.#start()
        if (claiming && entries.length === 0 && holdsNothing) {
          await this.#wakeup.sleep(idle)
          idle = Math.min(idle * 2, IDLE_POLL.max)
          continue
        }
        idle = IDLE_POLL.min
      }
      await this.#wakeup.sleep(this.#settings.lease / 3)
    }
  }

  /** The claimed entries, or undefined when Redis could not be asked (an outage began). */
  async #claim(want: number, holdsNothing: boolean): Promise<WorkLine[] | undefined> {
    let reply: unknown[]
    const asked = Date.now()
    try {
      reply = (await this.#job.connection.run(CLAIM, this.#keys, [
        this.#settings.name,
        this.#settings.lease,
        want,
        this.#epoch,
        holdsNothing ? 1 : 0,
      ])) as unknown[]
    } catch (error) {
      if (!RedisConnection.isUnavailable(error)) throw error
      this.#beginOutage(error)
      return undefined
    }
    if (reply[0] === 'gone') throw this.#gone()
    const [, lost, total, done, entries, epoch] = reply as ClaimReply
    this.#epoch = epoch
    await this.#answered(asked, lost, total, done)
    return entries.map(([id, fields]) => {
      const entry: WorkLine = { line: lineOf(id), data: '', hash: '' }
      for (let i = 0; i < fields.length; i += 2) {
        if (fields[i] === 'd') entry.data = fields[i + 1]!
        else if (fields[i] === 'h') entry.hash = fields[i + 1]!
        else if (fields[i] === 'f') entry.falls = Number(fields[i + 1])
      }
      return entry
    })
  }

  /**
   * Others took over lines of this worker while it was silent: the claimed lines it has not started
   * and no longer holds are dropped, so that they run once (the ones already running finish, and
   * count as run twice if the others record them first).
   */
  async #dropTakenOver(): Promise<void> {
    if (this.#buffer.length === 0) return
    const ids = this.#buffer.map((entry) => entryId(entry.line))
    try {
      const held = new Set(
        (await this.#job.connection.run(HELD, this.#keys, [this.#settings.name, ...ids])) as string[],
      )
      // Lines claimed while Redis was asked were not checked: they are ours.
      const checked = new Set(ids)
      const keeps = (id: string) => !checked.has(id) || held.has(id)
      this.#buffer = this.#buffer.filter((entry) => keeps(entryId(entry.line)))
    } catch (error) {
      // Unverified, they are kept: at worst they run twice, and count as such.
      if (RedisConnection.isUnavailable(error)) this.#beginOutage(error)
      else this.#fatal ??= error
    }
  }

  /** Every line of the job has a result: what this worker still holds was done by others. */
  #complete(): boolean {
    return this.#total >= 0 && this.#done >= this.#total
  }

  /**
   * This worker has been silent longer than its lease (frozen, or cut off): others may have taken its
   * buffered lines, so none starts until Redis says which it still holds.
   */
  #lapsed(): boolean {
    if (Date.now() - this.#lastBeat <= this.#settings.lease) return false
    this.#wakeup.kick()
    return true
  }

  /**
   * Redis answered a script asked at `asked`: the lease is renewed from then, after dropping the lines
   * others took meanwhile. From when it was asked, not answered: an answer read after a freeze (to a
   * call Redis ran before it) renews nothing since, and the lines others took since must not start.
   */
  async #answered(asked: number, lost: number, total: number, done: number): Promise<void> {
    // Before the lease counts as renewed (which lets buffered lines start again), and while no
    // other answer's renewal may start them: none starts until Redis has said which are still ours.
    if (lost > 0) {
      this.#verifying++
      await this.#dropTakenOver().finally(() => this.#verifying--)
    }
    this.#lastBeat = Math.max(this.#lastBeat, asked)
    this.#total = total
    this.#done = done
    if (lost > 0) this.#on.lost?.(lost)
  }

  /**
   * Starts buffered lines while there is room and nothing stops them. A suspect (its worker died
   * holding it) starts once the lines before it have ended and been recorded, and alone, so that if
   * this worker dies too the line is to blame; one that has fallen `poisonAfter` times is recorded,
   * not run.
   */
  #start(): void {
    while (
      this.#inFlight < this.#settings.concurrency &&
      this.#buffer.length > 0 &&
      this.#alone === undefined &&
      this.#verifying === 0 &&
      !this.#outage &&
      this.#fatal === undefined &&
      !this.#signal?.aborted &&
      !this.#complete() &&
      !this.#lapsed()
    ) {
      const entry = this.#buffer[0]!
      if (entry.falls !== undefined && entry.falls >= this.#settings.poisonAfter) {
        this.#buffer.shift()
        try {
          this.#keep(entry.line, checkedResult(this.#settings.poisoned(entry), 'poisoned', entry.line))
        } catch (error) {
          this.#fatal ??= error
        }
        continue
      }
      // Alone also means after the results before it are recorded: a death now must be its own.
      const alone = entry.falls !== undefined
      if (alone && (this.#inFlight > 0 || this.#results.length > 0 || this.#recording)) return
      this.#buffer.shift()
      this.#inFlight++
      if (alone) this.#alone = entry.line
      void this.#run(entry, alone)
    }
  }

  async #run(entry: WorkLine, alone: boolean): Promise<void> {
    let kept = false
    try {
      // Others took it over while the lines before it ended: it is theirs now.
      if (alone && !(await this.#startAlone(entry))) return
      this.#keep(entry.line, checkedResult(await this.#handle(entry), 'handle', entry.line))
      kept = true
    } catch (error) {
      if ((error as { code?: unknown } | undefined)?.code === 'STORE_UNAVAILABLE') {
        // The limiter's Redis is away: the line was not run; it runs again once Redis answers.
        this.#buffer.unshift(entry)
        this.#beginOutage(error as StoreUnavailableError)
      } else this.#fatal ??= error
    } finally {
      if (alone && !kept) this.#alone = undefined
      this.#inFlight--
      this.#start()
      this.#wakeup.kick()
    }
  }

  /** Queues a line's result for recording. */
  #keep(line: number, result: WorkResult): void {
    this.#results.push([line, result.ok ? 1 : 0, result.result])
    this.#record()
  }

  /** Tells Redis this suspect starts alone now; false when this worker no longer holds it. */
  async #startAlone(entry: WorkLine): Promise<boolean> {
    const reply = (await this.#job.connection.run(ALONE, this.#keys, [
      this.#settings.name,
      this.#epoch,
      entry.line,
    ])) as unknown[]
    if (reply[0] === 'gone') throw this.#gone()
    return reply[1] === 1
  }

  /** Records the results waiting, in one script call per batch: those that finish meanwhile form the next. */
  #record(): void {
    if (this.#recording || this.#outage || this.#jobGone || this.#results.length === 0) return
    this.#recording = (async () => {
      // Results that finish in this turn of the event loop join the batch.
      await new Promise((resolve) => setImmediate(resolve))
      const batch = this.#results
      const maybeRecorded = this.#maybeRecorded
      this.#results = []
      this.#maybeRecorded = 0
      try {
        const asked = Date.now()
        const reply = (await this.#job.connection.run(RECORD, this.#keys, [
          this.#settings.name,
          this.#settings.lease,
          this.#epoch,
          maybeRecorded,
          ...batch.flat(),
        ])) as unknown[]
        if (reply[0] === 'gone') throw this.#gone()
        const [, lost, total, done, fresh, duplicates] = reply as RecordReply
        this.#mine += fresh
        this.#duplicates += duplicates
        await this.#answered(asked, lost, total, done)
        this.#on.recorded?.({
          total: total < 0 ? null : total,
          done,
          mine: this.#mine,
          duplicates: this.#duplicates,
        })
        // The suspect is recorded: a death from now on is not its doing.
        if (batch.some(([line]) => line === this.#alone)) this.#alone = undefined
      } catch (error) {
        this.#results.unshift(...batch)
        // Whether the call reached Redis is unknown: its lines may be recorded already, by it.
        this.#maybeRecorded = batch.length
        if (RedisConnection.isUnavailable(error)) this.#beginOutage(error)
        else this.#fatal ??= error
      } finally {
        this.#recording = undefined
        this.#wakeup.kick()
      }
      this.#record()
      // A suspect may have waited for these results to be recorded.
      this.#start()
    })()
  }

  #beginOutage(error: StoreUnavailableError): void {
    if (this.#outage) return
    this.#outage = error
    this.#on.outage?.(error)
  }

  /** Asks Redis every second until it answers; then the lines and results held meanwhile go on. */
  async #waitForRedis(): Promise<void> {
    await this.#wakeup.sleep(RETRY_REDIS_MS)
    if ((await this.#claim(0, false)) === undefined) return
    this.#outage = undefined
    this.#on.back?.()
    this.#record()
    this.#start()
  }

  /** Lets the lines in hand finish, records their results, and gives back the lines not started. */
  async #drain(): Promise<void> {
    const giveUpAt = Date.now() + this.#settings.lease
    while (
      this.#inFlight > 0 ||
      this.#recording ||
      (this.#results.length > 0 && !this.#jobGone && Date.now() < giveUpAt)
    ) {
      if (this.#outage && this.#inFlight === 0 && !this.#recording)
        await this.#waitForRedis().catch((error: unknown) => {
          this.#fatal ??= error
        })
      else await this.#wakeup.sleep(this.#settings.lease / 3)
      this.#record()
    }
    try {
      await this.#job.connection.run(LEAVE, this.#keys, [this.#settings.name, this.#epoch])
    } catch {
      // Redis is away: the lease runs out instead, and the others take the lines then.
    }
  }

  #gone(): JobError {
    this.#jobGone = true
    if (this.#epoch === '')
      return new JobError(
        'JOB_NOT_FOUND',
        `no job ${this.#job.name} in Redis at ${this.#job.connection.where}: submit it first (volley submit), or it expired`,
      )
    return new JobError(
      'JOB_NOT_FOUND',
      `job ${this.#job.name} is not in Redis at ${this.#job.connection.where}: it expired, or Redis restarted without persistence and lost it; submit it again, then run the workers`,
    )
  }
}
