import { existsSync, type Stats, statSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { duration, shard, wholeNumber } from '../flags.js'
import { reportPath } from '../report/html/build.js'
import type { Io } from '../io.js'
import type { JobOptions } from '../job.js'
import { dottedPath, type PageJob, paginateFlag } from '../pages/flag.js'
import type { SharedLimit } from '../shared-limit.js'
import { UsageError } from '../usage.js'
import { type InputFlags, resolveInputFlags } from './input-flags.js'
import { type RequestFlags, redisUrl, requestMethod, resolveRequestFlags } from './request-flags.js'

/** `volley run` flags as commander hands them over (strings; repeatable ones as arrays). */
export interface RunFlags extends RequestFlags, InputFlags {
  out?: string
  resume?: boolean
  overwrite?: boolean
  failFast?: boolean
  shard?: string
  runId?: string
  quiet?: boolean
  json?: boolean
  progressInterval: string
  redis?: string | boolean
  key?: string
  report?: string | boolean
  paginate?: string
  items?: string
  maxPages?: string
}

/** Everything but the reporter, checked: a bad flag is a UsageError naming it and its value. */
export type ResolvedRun = Omit<JobOptions, 'reporter'> & {
  quiet: boolean
  json: boolean
  progressIntervalMs: number
  /** --report: the HTML report's path (absolute), written at the end of the run; undefined without the flag. */
  report: string | undefined
}

export function resolveRunFlags(input: string, flags: RunFlags, io: Io): ResolvedRun {
  const inputOptions = resolveInputFlags(input, flags, requestMethod(flags.method), io)
  const inputPath = inputOptions.path
  const shardOf = flags.shard === undefined ? undefined : shard('--shard', flags.shard)
  const out = flags.out === '-' ? '-' : resolve(io.cwd, flags.out ?? defaultOut(inputPath, io.cwd, shardOf))
  if (out !== '-' && sameFile(inputPath === '-' ? io.stdinFile() : statSync(inputPath), out)) {
    const stdin = inputPath === '-' ? ' (stdin is read from it)' : ''
    throw new UsageError(`--out ${flags.out ?? out} is the input file${stdin}: results would overwrite it`)
  }

  const report = reportOut(flags, out, io)
  const sent = resolveRequestFlags(flags, io)

  return {
    input: inputOptions,
    out,
    resume: flags.resume === true,
    overwrite: flags.overwrite === true,
    failFast: flags.failFast === true,
    shard: shardOf,
    pages: pageJob(flags),
    ...sent,
    runId: flags.runId,
    quiet: flags.quiet === true,
    json: flags.json === true,
    progressIntervalMs: duration('--progress-interval', flags.progressInterval),
    redis: sharedLimit(flags, io),
    report,
  }
}

/** --report [file]: the page goes beside the results unless named; it is built from the results file, so --out - cannot have one. */
function reportOut(flags: RunFlags, out: string, io: Io): string | undefined {
  if (flags.report === undefined || flags.report === false) return undefined
  if (out === '-')
    throw new UsageError(
      '--report is built from the results file, and --out - writes none: give --out a file, or run volley report on a saved copy',
    )
  const report = flags.report === true ? reportPath(out) : resolve(io.cwd, flags.report)
  if (report === out)
    throw new UsageError(`--report ${flags.report} is the results file (--out): give another file`)
  return report
}

/** --paginate <shape> [--items <path>] [--max-pages <n>]. */
function pageJob(flags: RunFlags): PageJob | undefined {
  if (flags.paginate === undefined) {
    const without =
      flags.items !== undefined ? '--items' : flags.maxPages !== undefined ? '--max-pages' : undefined
    if (without) throw new UsageError(`${without} applies to the pages of a list: give --paginate too`)
    return undefined
  }
  if (flags.items !== undefined && flags.body !== 'json')
    throw new UsageError(`--items writes each item as JSON: it cannot be given with --body ${flags.body}`)
  return {
    shape: flags.paginate,
    next: paginateFlag('--paginate', flags.paginate),
    items: flags.items === undefined ? undefined : dottedPath('--items', flags.items),
    maxPages: flags.maxPages === undefined ? Infinity : wholeNumber('--max-pages', flags.maxPages, 1),
  }
}

/** --redis [url] --key NAME (the same --rate-margin and pacing must be given to every process sharing it). */
function sharedLimit(flags: RunFlags, io: Io): SharedLimit | undefined {
  if (flags.redis === undefined || flags.redis === false) {
    if (flags.key !== undefined)
      throw new UsageError('--key names a quota shared through Redis: give --redis too')
    return undefined
  }
  if (!flags.key) {
    throw new UsageError(
      "--redis needs --key NAME: the name of the quota the processes share (e.g. the API key's name)",
    )
  }
  return { url: redisUrl(flags.redis, io), key: flags.key }
}

/**
 * users.jsonl -> users.results.jsonl beside it; stdin -> results.jsonl in the working directory.
 * With --shard 2/4, users.shard-2-of-4.results.jsonl: shards run at once, each needs its own file.
 */
function defaultOut(
  inputPath: string,
  cwd: string,
  shardOf: { index: number; count: number } | undefined,
): string {
  const suffix = shardOf ? `.shard-${shardOf.index}-of-${shardOf.count}.results.jsonl` : '.results.jsonl'
  if (inputPath === '-') return join(cwd, suffix.slice(1))
  return join(dirname(inputPath), `${basename(inputPath, extname(inputPath))}${suffix}`)
}

/**
 * Whether `out` is the input's file under another name (a symlink, a hard link, the file stdin is
 * redirected from): opening it would truncate the input. Files are compared (device and inode), not
 * paths; only regular files, so a terminal that is both stdin and --out /dev/stdout is no match.
 */
function sameFile(input: Stats | undefined, out: string): boolean {
  if (!input?.isFile() || !existsSync(out)) return false
  const target = statSync(out)
  return target.isFile() && target.dev === input.dev && target.ino === input.ino
}
