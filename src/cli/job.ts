import { existsSync, statSync } from 'node:fs'
import { AbortError } from '../errors.js'
import { createClient } from '../http/client.js'
import type { ClientError } from '../http/errors.js'
import type { ClientOptions } from '../http/options.js'
import type { TimerHandle } from '../limit/clock.js'
import type { Cost } from '../limit/cost.js'
import { parseRates } from '../limit/units.js'
import { withSource } from '../run/source.js'
import type { CostField } from './cost-field.js'
import { newJobId } from './fingerprint.js'
import { countLines } from './input/count.js'
import { inShard, JobInput, type Shard } from './job-input.js'
import { type InputOptions, openInput, openInputChunks } from './input/open.js'
import type { Io } from './io.js'
import { isRefusal, notRunReason } from './not-run.js'
import { DoneSet } from './output/done-set.js'
import { lockOutput } from './output/lock.js'
import { type BodyMode, errorRecord, type ResultRecord, recordLine, responseRecord } from './output/record.js'
import { checkResumedInput, InputCheck } from './output/resume-check.js'
import { jobLine, readResumeState, type ResumeState } from './output/resume.js'
import { fileSink, type Sink, streamSink, unwritableOutput } from './output/sink.js'
import type { LiveRecorder } from './report/html/live.js'
import type { PageJob } from './pages/flag.js'
import { followLists } from './pages/follow.js'
import type { Reporter } from './report/reporter.js'
import { RunStats } from './report/stats.js'
import type { RequestDefaults } from './requests.js'
import { openSharedLimit, type SharedLimit } from './shared-limit.js'
import { EXIT, UsageError } from './usage.js'

/** A `volley run`, resolved from its flags. */
export interface JobOptions {
  input: InputOptions
  /** An absolute path, or '-' for stdout. */
  out: string
  resume: boolean
  overwrite: boolean
  failFast: boolean
  shard: Shard | undefined
  body: BodyMode
  /** --paginate: each line is a list whose pages are followed, one output line per page (or item). */
  pages: PageJob | undefined
  /** --cost-field: where each line's cost is read from (a line's own `cost` wins). */
  costFields: readonly CostField[]
  /** All but the job's id, which the output decides (see `runId`). */
  requests: Omit<RequestDefaults, 'job'>
  /** --run-id: the job's id, chosen; else a new job draws one and a resumed job keeps its own. */
  runId: string | undefined
  /** The client's options but its store: the job opens that (see `redis`). */
  client: Omit<ClientOptions, 'store' | 'key'>
  /** --redis --key: limits shared through Redis instead of held in this process. */
  redis: SharedLimit | undefined
  /** How long in-flight requests may finish after the first SIGINT before they are abandoned. */
  graceMs: number
  reporter: Reporter
  /** --report: collects the server's pauses and the learned quotas for the page. */
  live?: LiveRecorder
}

export interface JobOutcome {
  exitCode: number
  stats: RunStats
  interrupted: boolean
  /** Why the run stopped early (interrupt, --fail-fast, a stopOn status), if it did. */
  stopped: string | undefined
}

/**
 * Runs a job: input lines -> request specs -> client.stream -> one output line per result.
 * Lines already in the output (--resume) and lines of other shards are skipped as they are read.
 * Requests cancelled by a stop are not written: they are not done, and --resume runs them.
 */
export async function runJob(options: JobOptions, io: Io): Promise<JobOutcome> {
  const unlock = options.out === '-' ? undefined : lockOutput(options.out, io)
  try {
    return await runWithOutput(options, io)
  } finally {
    unlock?.()
  }
}

async function runWithOutput(options: JobOptions, io: Io): Promise<JobOutcome> {
  const resumed = await openDone(options)
  const { done } = resumed
  const requests: RequestDefaults = { ...options.requests, job: resumed.job ?? options.runId ?? newJobId() }
  const stats = new RunStats(io.clock)
  // A result is counted once written, so the summary says what the file holds (a full disk fails the write).
  const counted = (record: ResultRecord) => stats.result(record)
  const sink = options.out === '-' ? streamSink(io.stdout, counted) : openOutput(options, counted)
  const givenRates = parseRates(options.client.rate, '--rate')
  stats.costs.budgets(givenRates, 'given')
  stats.previouslyDone = done.size
  stats.previouslyFailed = resumed.failed
  stats.paginated = options.pages !== undefined
  if (options.input.path !== '-') void estimateTotal(options, stats)

  const abort = new AbortController()
  let stopping = false
  let stopped: string | undefined
  let interrupted = false
  let graceTimer: TimerHandle | undefined
  const readingStopped = new AbortController()
  const stop = (reason: string, abandonInFlight: boolean) => {
    stopping = true
    stopped ??= reason
    // The requests this cancels carry the reason as a StopReason, like those a stopOn status cancels.
    const error = AbortError.stopped({ code: 'STOP_SIGNAL', detail: reason })
    readingStopped.abort(error)
    if (abandonInFlight && !abort.signal.aborted) abort.abort(error)
  }
  const onInterrupt = (signal: string) => () => {
    if (interrupted) return stop(`${signal} (again)`, true)
    interrupted = true
    stop(`interrupted by ${signal}`, false)
    options.reporter.note(
      `volley: ${signal}: starting nothing new; letting ${stats.active} in flight finish for up to ${Math.round(options.graceMs / 1000)} s (again to abandon them)`,
    )
    graceTimer = io.clock.setTimer(() => stop('grace period over', true), options.graceMs)
  }
  const unsubscribe = [
    io.onSignal('SIGINT', onInterrupt('SIGINT')),
    io.onSignal('SIGTERM', onInterrupt('SIGTERM')),
  ]

  /** Queues lines for the output; `end` is the record they end an input line with (a --paginate page does not always). */
  const writeLines = (text: string, end: ResultRecord | undefined) => {
    const queued = sink.write(text, end)
    if (end?.ok === false && options.failFast)
      stop(`--fail-fast: line ${end.index} failed (${end.error!.code})`, true)
    return queued
  }
  const write = (record: ResultRecord) => writeLines(recordLine(record), record)

  // The job owns the shared limit's store: opened here, closed when this function returns, after
  // the client that gives its slots back into it.
  await using shared = options.redis && (await openSharedLimit(options.redis))
  const client = createClient({
    ...options.client,
    store: shared?.store,
    key: shared?.key,
    clock: io.clock,
    on: {
      retry: () => stats.retries++,
      response: (e) => {
        stats.attempt(e.ms)
        if (e.status === 429) stats.rateLimited++
      },
      pause: (e) => {
        stats.pause(e.ms)
        options.live?.pause(e)
      },
      quota: (e) => {
        stats.costs.budgets(e.rates, 'learned')
        options.live?.quota(e)
      },
    },
  })
  const jobInput = new JobInput({
    shard: options.shard,
    costFields: options.costFields,
    paginated: options.pages !== undefined,
    requests,
    done,
    check: new InputCheck(resumed.seen, options.out),
    resumedLists: resumed.started,
    stopping: () => stopping,
    write,
    onRequest: () => stats.active++,
  })

  options.reporter.start(stats)
  let exitCode: number = EXIT.ok
  /** An origin refused request after request and its circuit opened: the run ends with EXIT.refused. */
  let refused = false
  try {
    // Before anything is sent; stdin cannot be read twice, so it is checked as it is read (`inputSource`).
    if (done.size > 0 && options.input.path !== '-')
      await checkResumedInput(openInput(options.input, io), resumed.seen, options.out)
    // The job's id is on disk before any request carrying a key derived from it is sent: even a
    // machine crash cannot make a resume send those requests again under new keys.
    if (resumed.job === undefined && options.out !== '-') {
      const paging = options.pages && { paginate: options.pages.shape, items: options.pages.items }
      await sink.write(jobLine(requests.job, { rates: givenRates, paging }))
      sink.sync()
    }
    const streamOptions = { signal: abort.signal, stopSignal: readingStopped.signal }
    /** Whether a result was not carried out (left for --resume); a refusal is remembered for the exit code. */
    const notRun = (error: ClientError) => {
      const reason = notRunReason(error)
      if (reason === undefined) return false
      refused ||= isRefusal(error)
      // A stopOn status (401 by default) stopped the client, an origin's circuit opened, or the
      // shared limit's store failed: stop reading input too; what was not sent is left for --resume.
      if (!stopping) stop(reason, false)
      return true
    }
    const specs = withSource(jobInput.source(openInputChunks(options.input, io), readingStopped.signal))
    if (options.pages) {
      const { pages, body } = options
      await followLists({
        client,
        specs,
        streamOptions,
        lists: jobInput.lists,
        job: pages,
        body,
        stats,
        write: writeLines,
        notRun,
      })
    } else
      for await (const result of client.stream(specs, streamOptions)) {
        stats.active--
        const { meta, secrets } = jobInput.pending.get(result.index)!
        jobInput.pending.delete(result.index)
        const cost = (result.item as { cost?: Cost }).cost
        if (!result.ok && notRun(result.error)) continue
        const record = result.ok
          ? responseRecord(result.value, meta, options.body, secrets)
          : errorRecord(result.error, meta, secrets)
        const queued = write(record)
        if (queued) await queued
        stats.costs.result(cost, record.attempts, result.ok ? result.value : undefined)
      }
    // What the last turn queued: a failed write is the output's error, caught below.
    sink.flush()
  } catch (error) {
    if (error instanceof UsageError) {
      options.reporter.note(`volley: ${error.message}`)
      exitCode = EXIT.usage
    } else if (isFileError(error)) {
      // A file error is the input's when it names the input or comes from reading; else the output's (a full disk).
      const { path, syscall } = error as { path?: unknown; syscall?: unknown }
      const input = path === options.input.path || syscall === 'read'
      options.reporter.note(
        `volley: cannot ${input ? 'read the input' : 'write the output'}: ${(error as Error).message}`,
      )
      exitCode = input ? EXIT.usage : EXIT.failed
    } else throw error
  } finally {
    if (graceTimer !== undefined) io.clock.clearTimer(graceTimer)
    for (const off of unsubscribe) off()
    options.reporter.stop()
    sink.close()
    await client.close()
  }
  if (exitCode !== EXIT.usage) {
    // Every line of this job that is not in the output was not run: cancelled, in flight when the
    // run stopped, a result that could not be written, or never read.
    const unread = jobInput.inputEnded ? 0 : await countUnread(options, io, jobInput.lastRead, done)
    stats.notRun = jobInput.taken - stats.done + unread
  }
  if (exitCode === EXIT.ok) {
    if (interrupted) exitCode = EXIT.interrupted
    else if (refused) exitCode = EXIT.refused
    else if (stats.failed + stats.previouslyFailed + stats.notRun > 0) exitCode = EXIT.failed
  }
  return { exitCode, stats, interrupted, stopped }
}

async function openDone(options: JobOptions): Promise<Omit<ResumeState, 'repairedBytes'>> {
  const done = new DoneSet()
  const fresh = { done, seen: done, started: new Map(), paged: false, failed: 0, job: undefined }
  const { out } = options
  if (out === '-') {
    if (options.resume)
      throw new UsageError('--resume needs an output file: it cannot resume into stdout (--out -)')
    return fresh
  }
  if (options.resume) {
    const state = await readResumeState(out)
    if (state.seen.size > 0 && state.paged !== (options.pages !== undefined)) {
      throw new UsageError(
        state.paged
          ? `--resume: ${out} holds the pages of a --paginate run: give the same --paginate (and --items) to finish it`
          : `--resume: ${out} holds the results of a run without --paginate: resume it without --paginate, or give another --out`,
      )
    }
    const { paging } = state
    const pages = options.pages
    if (paging && pages && (paging.paginate !== pages.shape || paging.items !== pages.items)) {
      const given = (p: { items: string | undefined }, shape: string) =>
        `--paginate ${shape}${p.items === undefined ? '' : ` --items ${p.items}`}`
      throw new UsageError(
        `--resume: ${out} was written with ${given(paging, paging.paginate)}, not ${given(pages, pages.shape)}: give the same to finish its lists`,
      )
    }
    if (options.runId !== undefined && state.job !== undefined && state.job !== options.runId) {
      throw new UsageError(
        `--run-id ${options.runId} is not the id of the job in ${out} (${state.job}): a resumed job keeps its Idempotency-Keys. Leave --run-id out, or give another --out to start a new job`,
      )
    }
    if (state.repairedBytes > 0) {
      options.reporter.note(
        `volley: ${out}: removed a torn last line (${state.repairedBytes} bytes) left by a crash; its request runs again`,
      )
    }
    return state
  }
  if (existsSync(out) && statSync(out).size > 0 && !options.overwrite) {
    throw new UsageError(
      `--out ${out} already exists: add --resume to finish that run, or --overwrite to start again`,
    )
  }
  return fresh
}

/**
 * This job's lines after `after`: never read, the run stopped first. A file is read again to count
 * them; stdin cannot be, so its unread lines are not counted.
 */
async function countUnread(options: JobOptions, io: Io, after: number, done: DoneSet): Promise<number> {
  if (options.input.path === '-') return 0
  let count = 0
  try {
    for await (const { line } of openInput(options.input, io))
      if (line > after && inShard(line, options.shard) && !done.has(line)) count++
  } catch (error) {
    // The input cannot be read again (removed meanwhile): the count is what could be read.
    if (!isFileError(error)) throw error
  }
  return count
}

async function estimateTotal(options: JobOptions, stats: RunStats): Promise<void> {
  const lines = await countLines(options.input.path)
  if (lines === undefined) return
  const requests = options.input.format === 'csv' ? Math.max(0, lines - 1) : lines
  stats.total = options.shard ? Math.round(requests / options.shard.count) : requests
}

/** The --out file, or a usage error naming it (a missing folder, no permission) before anything is sent. */
function openOutput(options: JobOptions, onWritten: (record: ResultRecord) => void): Sink<ResultRecord> {
  try {
    return fileSink(options.out, options.resume, onWritten)
  } catch (error) {
    if (!isFileError(error)) throw error
    throw unwritableOutput(options.out, error)
  }
}

function isFileError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code)
}
