import { existsSync, type Stats, statSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { resolveBaseUrl } from '../../http/options.js'
import { redactUrl, secretValues } from '../../redact.js'
import { duration, header, headerFromEnv, httpUrl, oneOf, rates, shard, wholeNumber } from '../flags.js'
import { formatOf, type InputFormat } from '../input/open.js'
import { costFields } from '../cost-field.js'
import { reportPath } from '../report/html/build.js'
import type { Io } from '../io.js'
import type { JobOptions } from '../job.js'
import { dottedPath, type PageJob, paginateFlag } from '../pages/flag.js'
import type { BodyMode } from '../output/record.js'
import type { SharedLimit } from '../shared-limit.js'
import { UsageError } from '../usage.js'

/** `volley run` flags as commander hands them over (strings; repeatable ones as arrays). */
export interface RunFlags {
  baseUrl?: string
  header: string[]
  headerEnv: string[]
  allowOrigin: string[]
  concurrency: string
  rate: string[]
  costField: string[]
  rateMargin: string
  retries: string
  timeout: string
  method: string
  out?: string
  resume?: boolean
  overwrite?: boolean
  failFast?: boolean
  shard?: string
  body: string
  format?: string
  csv?: boolean
  urlColumn: string
  idColumn?: string
  params?: string
  runId?: string
  grace: string
  quiet?: boolean
  json?: boolean
  progressInterval: string
  maxLineBytes: string
  redis?: string | boolean
  key?: string
  report?: string | boolean
  paginate?: string
  items?: string
  maxPages?: string
}

/** More retries than this is a typo (1e9), not a policy: each waits a backoff, so they would never end. */
const MAX_RETRIES = 100

export const BODY_MODES: readonly BodyMode[] = ['json', 'text', 'none']
export const FORMATS: readonly InputFormat[] = ['jsonl', 'urls', 'csv']

/** Everything but the reporter, checked: a bad flag is a UsageError naming it and its value. */
export type ResolvedRun = Omit<JobOptions, 'reporter'> & {
  quiet: boolean
  json: boolean
  progressIntervalMs: number
  /** --report: the HTML report's path (absolute), written at the end of the run; undefined without the flag. */
  report: string | undefined
}

export function resolveRunFlags(input: string, flags: RunFlags, io: Io): ResolvedRun {
  const inputPath = input === '-' ? '-' : resolve(io.cwd, input)
  if (inputPath !== '-') {
    if (!existsSync(inputPath)) throw new UsageError(`the input file ${input} does not exist`)
    if (!statSync(inputPath).isFile()) throw new UsageError(`the input ${input} is not a file`)
  }
  const format: InputFormat = flags.csv
    ? 'csv'
    : flags.format !== undefined
      ? oneOf('--format', flags.format, FORMATS)
      : inputPath === '-'
        ? 'jsonl'
        : formatOf(inputPath)
  const shardOf = flags.shard === undefined ? undefined : shard('--shard', flags.shard)
  const out = flags.out === '-' ? '-' : resolve(io.cwd, flags.out ?? defaultOut(inputPath, io.cwd, shardOf))
  if (out !== '-' && sameFile(inputPath === '-' ? io.stdinFile() : statSync(inputPath), out)) {
    const stdin = inputPath === '-' ? ' (stdin is read from it)' : ''
    throw new UsageError(`--out ${flags.out ?? out} is the input file${stdin}: results would overwrite it`)
  }

  const report = reportOut(flags, out, io)

  const headers: Record<string, string> = {}
  for (const text of flags.header) {
    const [name, value] = header('--header', text)
    headers[name] = value
  }
  const secrets: string[] = []
  for (const text of flags.headerEnv) {
    const [name, value] = headerFromEnv('--header-env', text, io.env)
    headers[name] = value
    // Taken from the environment means secret, whatever the header is called.
    secrets.push(value, ...value.split(' ').slice(1))
  }
  secrets.push(...secretValues(headers))
  const base = flags.baseUrl === undefined ? undefined : resolveBaseUrl(httpUrl('--base-url', flags.baseUrl))
  const allowOrigins = flags.allowOrigin.map((origin) => httpUrl('--allow-origin', origin))
  // Headers (credentials, most often) go only to origins the user named, never to whatever host a line names.
  if (base === undefined && allowOrigins.length === 0 && Object.keys(headers).length > 0)
    throw new UsageError(
      '-H and --header-env headers are sent only to the --base-url origin and --allow-origin origins: give --base-url, or --allow-origin <origin> for each origin that may receive them',
    )
  const method = flags.method.toUpperCase()
  if (!/^[A-Z]+$/.test(method))
    throw new UsageError(
      `--method must be an HTTP method such as GET or POST, got ${JSON.stringify(flags.method)}`,
    )
  const params =
    flags.params === undefined
      ? undefined
      : flags.params
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '')

  return {
    input: {
      path: inputPath,
      format,
      csv: { urlColumn: flags.urlColumn, idColumn: flags.idColumn, paramColumns: params, method },
      maxLineBytes: wholeNumber('--max-line-bytes', flags.maxLineBytes, 1),
    },
    out,
    resume: flags.resume === true,
    overwrite: flags.overwrite === true,
    failFast: flags.failFast === true,
    shard: shardOf,
    body: oneOf('--body', flags.body, BODY_MODES),
    pages: pageJob(flags),
    costFields: costFields('--cost-field', flags.costField),
    requests: {
      method,
      base,
      secrets: [...new Set(secrets)],
    },
    runId: flags.runId,
    client: {
      baseUrl: base,
      allowOrigins,
      headers,
      concurrency: wholeNumber('--concurrency', flags.concurrency, 1),
      rate: rates('--rate', flags.rate),
      // The rate must hold at the API, which counts arrivals: a margin and even pacing (see docs/cli.md).
      rateMargin: duration('--rate-margin', flags.rateMargin, { positive: false }),
      smooth: true,
      retry: wholeNumber('--retries', flags.retries, 0, MAX_RETRIES),
      timeout: duration('--timeout', flags.timeout),
    },
    graceMs: duration('--grace', flags.grace, { positive: false }),
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
  const url = typeof flags.redis === 'string' ? flags.redis : (io.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  if (!/^rediss?:\/\//.test(url)) {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`)
  }
  return { url, key: flags.key }
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
