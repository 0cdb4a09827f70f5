import type { Command } from 'commander'
import { resolveBaseUrl } from '../../http/options.js'
import { API_RATE_MARGIN } from '../../limit/limits.js'
import { redactUrl, secretValues } from '../../redact.js'
import { collect } from '../context.js'
import { costFields } from '../cost-field.js'
import { duration, header, headerFromEnv, httpUrl, oneOf, rates, wholeNumber } from '../flags.js'
import type { Io } from '../io.js'
import type { JobOptions } from '../job.js'
import type { BodyMode } from '../output/record.js'
import { UsageError } from '../usage.js'

/** The flags that say how each line is sent and written: `volley run` and `volley work` share them. */
export interface RequestFlags {
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
  body: string
  grace: string
}

/** The request flags, resolved and checked: a bad one is a UsageError naming it and its value. */
export type ResolvedRequests = Pick<JobOptions, 'requests' | 'client' | 'costFields' | 'body' | 'graceMs'>

/** More retries than this is a typo (1e9), not a policy: each waits a backoff, so they would never end. */
const MAX_RETRIES = 100

export const BODY_MODES: readonly BodyMode[] = ['json', 'text', 'none']

/** Adds the request flags to a command. */
export function withRequestFlags(command: Command): Command {
  return command
    .option('-b, --base-url <url>', 'relative URLs in the input are resolved against it')
    .option(
      '-H, --header <header>',
      "'Name: value' sent with every request to --base-url's origin and --allow-origin ones (repeatable)",
      collect,
      [],
    )
    .option(
      '--header-env <header>',
      "'Name: ENV_VAR' or 'Name: Bearer $ENV_VAR': a secret from the environment (repeatable)",
      collect,
      [],
    )
    .option(
      '--allow-origin <origin>',
      'another origin that requests may go to and that receives the headers (repeatable); without --base-url, needed for -H and --header-env',
      collect,
      [],
    )
    .option('-c, --concurrency <n>', 'requests in flight at once', '16')
    .option(
      '-r, --rate <rate>',
      "most starts per window: '10/s', '600/min', '100/10s'; a budget in another unit: '30000 tokens/min' (repeatable: all hold)",
      collect,
      [],
    )
    .option(
      '--cost-field <[unit=]path>',
      "where each line's cost is: 'json.max_tokens' (tokens), 'output-tokens=json.max_tokens'; a line's own cost wins (repeatable, one per unit)",
      collect,
      [],
    )
    .option(
      '--rate-margin <duration>',
      'added to every rate window (--rate and quotas learned from the API), all paced evenly, so the API counts no more than the rate',
      `${API_RATE_MARGIN}ms`,
    )
    .option('--retries <n>', 'retries per request (timeouts, 429, 5xx, connection errors)', '3')
    .option('--timeout <duration>', 'per attempt', '30s')
    .option(
      '-m, --method <method>',
      'method of plain-URL and [url, params] lines (and, for run, of CSV records)',
      'GET',
    )
    .option('--body <mode>', 'response body in the output: json (else text), text, none', 'json')
    .option('--grace <duration>', 'after Ctrl-C, how long in-flight requests may finish', '10s')
}

export function resolveRequestFlags(flags: RequestFlags, io: Io): ResolvedRequests {
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
  return {
    requests: { method: requestMethod(flags.method), base, secrets: [...new Set(secrets)] },
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
    costFields: costFields('--cost-field', flags.costField),
    body: oneOf('--body', flags.body, BODY_MODES),
    graceMs: duration('--grace', flags.grace, { positive: false }),
  }
}

/** --method, upper-cased and checked. */
export function requestMethod(given: string): string {
  const method = given.toUpperCase()
  if (!/^[A-Z]+$/.test(method))
    throw new UsageError(`--method must be an HTTP method such as GET or POST, got ${JSON.stringify(given)}`)
  return method
}

/** --redis [url]: the URL given, else $REDIS_URL, else the local Redis; checked. */
export function redisUrl(flag: string | boolean | undefined, io: Io): string {
  const url = typeof flag === 'string' ? flag : (io.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  if (!/^rediss?:\/\//.test(url)) {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(url))}`)
  }
  return url
}
