import { setMaxListeners } from 'node:events'
import { createClient } from '../../http/client.js'
import type { ClientError } from '../../http/errors.js'
import { type ClientOptions, DEFAULT_STOP_ON } from '../../http/options.js'
import type { JobLocation } from '../../redis/job/keys.js'
import type { WorkLine, WorkOutcome, WorkResult } from '../../redis/job/work-options.js'
import type { TimerHandle } from '../../limit/clock.js'
import { AbortError, VolleyError } from '../../errors.js'
import { withCostFields, type CostField } from '../cost-field.js'
import { InputError } from '../input/entry.js'
import type { Io } from '../io.js'
import { isRefusal, notRunReason } from '../not-run.js'
import { type BodyMode, errorRecord, recordLine, responseRecord } from '../output/record.js'
import { formatMs } from '../report/format.js'
import { type PreparedLine, prepareLine, type RequestDefaults } from '../requests.js'
import { EXIT } from '../usage.js'
import { entryOf } from './queued-line.js'

/** A job's line that is no request (its queued entry held an input error), with its record's meta. */
type NotARequest = Pick<PreparedLine, 'meta' | 'secrets'> & { error: InputError }

/** A `volley work`, resolved from its flags. */
export interface WorkerOptions {
  location: Required<Pick<JobLocation, 'job' | 'url'>>
  /** The shared limiter's key (--key, else the job's name). */
  key: string
  lease: number
  /** Falls (its worker dying while it ran alone) after which a line is recorded as POISON_LINE. */
  poisonAfter: number
  requests: Omit<RequestDefaults, 'job'>
  client: Omit<ClientOptions, 'store' | 'key'>
  costFields: readonly CostField[]
  body: BodyMode
  graceMs: number
  progressIntervalMs: number
  quiet: boolean
}

/**
 * Joins a job and runs its lines as `volley run` would (the same request defaults, Idempotency-Keys
 * from the job's name and the line, the same records) until every line of the job has a result.
 * Requests are limited through the job's Redis, shared with every worker under the same key.
 */
export async function runWorker(options: WorkerOptions, io: Io): Promise<number> {
  const [{ redisStore }, { workJob }] = await Promise.all([
    import('../../redis/store.js'),
    import('../../redis/job/work.js'),
  ])
  const say = (text: string) => {
    if (!options.quiet) io.stderr.write(`volley work: ${text}\n`)
  }
  const { job } = options.location
  const requests: RequestDefaults = { ...options.requests, job }
  const store = redisStore({ url: options.location.url })
  const client = createClient({ ...options.client, store, key: options.key, clock: io.clock })
  const stop = new AbortController()
  const abandon = new AbortController()
  // Every line in flight listens to it (bounded by the concurrency): not a leak, and no warning past 10.
  setMaxListeners(0, abandon.signal)
  let interrupted: string | undefined
  let graceTimer: TimerHandle | undefined
  const onInterrupt = (signal: string) => () => {
    if (interrupted)
      return abandon.abort(AbortError.stopped({ code: 'STOP_SIGNAL', detail: `${signal} (again)` }))
    interrupted = signal
    stop.abort()
    say(
      `${signal}: claiming nothing new; the lines in hand finish for up to ${formatMs(options.graceMs)} (again to abandon them)`,
    )
    graceTimer = io.clock.setTimer(
      () => abandon.abort(AbortError.stopped({ code: 'STOP_SIGNAL', detail: 'grace period over' })),
      options.graceMs,
    )
  }
  const unsubscribe = [
    io.onSignal('SIGINT', onInterrupt('SIGINT')),
    io.onSignal('SIGTERM', onInterrupt('SIGTERM')),
  ]

  const stopOn = new Set(options.client.stopOn ?? DEFAULT_STOP_ON)
  /** A job's line as `volley run` prepares it: its request and its record's meta, or why it is none. */
  const prepare = ({ line, data, hash }: WorkLine): PreparedLine | NotARequest => {
    const entry = entryOf(line, data)
    const at = { index: line, hash }
    if (entry.error) return { error: entry.error, meta: { id: line, ...at }, secrets: requests.secrets }
    return prepareLine(entry.spec, at, requests)
  }
  const handle = async (work: WorkLine): Promise<WorkResult> => {
    const { line } = work
    const prepared = prepare(work)
    if ('error' in prepared) return written(errorRecord(prepared.error, prepared.meta, prepared.secrets))
    const spec = withCostFields(prepared.spec, options.costFields, line)
    if (spec instanceof InputError) return written(errorRecord(spec, prepared.meta, prepared.secrets))
    try {
      const response = await client.request(spec, { signal: abandon.signal })
      return written(responseRecord(response, prepared.meta, options.body, prepared.secrets))
    } catch (error) {
      // Not carried out (a stop, the API refusing us, the limiter's Redis away): not a result.
      // Thrown, the line goes back to the job (or waits for Redis), and the worker stops or waits.
      if (notRunReason(error as ClientError) !== undefined) throw error
      // A stopOn status (401) answers this worker's credentials, not the line: the worker stops and
      // the line goes back to the job, for a worker the API accepts (volley run stops the same way).
      const { status } = error as { status?: unknown }
      if (typeof status === 'number' && stopOn.has(status)) {
        const detail = `line ${line}: ${(error as Error).message}; ${status} is in stopOn`
        throw AbortError.stopped({ code: 'STOP_ON_STATUS', status, detail })
      }
      return written(errorRecord(error as Error, prepared.meta, prepared.secrets))
    }
  }

  // A line that ended the workers running it: its record says so, under the line's own id.
  const poisoned = (work: WorkLine): WorkResult => {
    const { meta, secrets } = prepare(work)
    const message = `not run again: ${work.falls} workers died running it alone (--poison-after ${options.poisonAfter})`
    say(`line ${work.line}: ${message}; its result is a POISON_LINE error`)
    return written(errorRecord(new VolleyError('POISON_LINE', message), meta, secrets))
  }

  let lastProgress = io.clock.now()
  let outcome: WorkOutcome | undefined
  let failure: unknown
  const started = io.clock.now()
  try {
    outcome = await workJob({
      ...options.location,
      handle,
      concurrency: options.client.concurrency ?? 16,
      lease: options.lease,
      poisonAfter: options.poisonAfter,
      poisoned,
      signal: stop.signal,
      on: {
        outage: (error) => say(`${error.message}: waiting for it, starting nothing (results kept in memory)`),
        back: () => say(`Redis answers again: going on`),
        lost: (count) =>
          say(
            `this worker was silent for longer than its lease (${formatMs(options.lease)}): ${count} of its lines were taken over by others; a result they record first is kept`,
          ),
        recorded: (progress) => {
          if (io.clock.now() - lastProgress < options.progressIntervalMs) return
          lastProgress = io.clock.now()
          const total =
            progress.total === null ? 'still being submitted' : `${progress.done} of ${progress.total} done`
          say(`job ${job}: ${total}; this worker ${progress.mine}`)
        },
      },
    })
  } catch (error) {
    failure = error
  } finally {
    if (graceTimer !== undefined) io.clock.clearTimer(graceTimer)
    for (const off of unsubscribe) off()
    await client.close()
    await store.close()
  }
  const took = formatMs(io.clock.now() - started)
  if (failure !== undefined) {
    const stopped = failure as ClientError
    if (interrupted) {
      say(`interrupted by ${interrupted}; the lines not finished go to the other workers`)
      return EXIT.interrupted
    }
    if (!('code' in stopped) || notRunReason(stopped) === undefined) throw failure
    say(`stopped: ${notRunReason(stopped)}; the lines not finished go to the other workers`)
    return isRefusal(stopped) ? EXIT.refused : EXIT.failed
  }
  const { done, duplicates, unrecorded } = outcome!
  const mine = `this worker recorded ${done} line(s)${duplicates > 0 ? ` (and ran ${duplicates} another worker had recorded first)` : ''} in ${took}`
  if (unrecorded > 0)
    say(
      `${unrecorded} result(s) could not be recorded before Redis went away: their lines run again on the other workers`,
    )
  if (interrupted) {
    say(`interrupted by ${interrupted}: ${mine}; the lines it had not started go to the other workers`)
    return EXIT.interrupted
  }
  say(`job ${job} is complete: ${mine}. Collect the results with: volley collect --job ${job} --out <file>`)
  return EXIT.ok
}

function written(record: ReturnType<typeof errorRecord>): WorkResult {
  return { ok: record.ok, result: recordLine(record).slice(0, -1) }
}
