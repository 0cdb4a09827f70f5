import { describeValue, InvalidOptionError } from '../errors.js'
import { isSecretHeader, maskUrl, REDACTED } from '../redact.js'
import { parseDuration, parseRates, type ResolvedRate } from '../limit/units.js'
import { UsageError } from './usage.js'

/** Flag parsers: each names the flag and the bad value in its UsageError (exit 2). */

export function wholeNumber(flag: string, value: string, min: number, max = Infinity): number {
  const n = Number(value)
  if (value.trim() !== '' && Number.isInteger(n) && n >= min && n <= max) return n
  const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`
  throw new UsageError(`${flag} must be a whole number ${range}, got ${describeValue(value)}`)
}

export function duration(flag: string, value: string, { positive = true } = {}): number {
  const ms = translate(() => parseDuration(value, flag))
  if (positive && !(ms > 0)) throw new UsageError(`${flag} must be more than 0, got ${describeValue(value)}`)
  return ms
}

export function rates(flag: string, values: readonly string[]): ResolvedRate[] {
  return values.flatMap((value) => translate(() => parseRates(value, flag)))
}

export function oneOf<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T
  throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got ${describeValue(value)}`)
}

/**
 * An http(s) base URL. A user:password or a query in it would not be sent (requests are resolved
 * against its path only; Basic auth is a header): refused, saying where such a credential goes.
 */
export function httpUrl(flag: string, value: string): string {
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    // Not a URL at all: the error below says what is expected.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(
      `${flag} must be an absolute http(s) URL such as https://api.example.com/v1, got ${describeValue(maskUrl(value))}`,
    )
  }
  if (url.username || url.password) {
    throw new UsageError(
      `${flag} must not hold a user name or password (user:pass@host): they would not be sent; use --header-env 'Authorization: Basic $CREDENTIALS' (base64 of user:pass)`,
    )
  }
  if (url.search || value.includes('?')) {
    throw new UsageError(
      `${flag} must not hold a query ('?…'): it would not be sent; put such parameters in each line's params (CSV: a column), or a key in a header (--header-env)`,
    )
  }
  return value
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** 'Name: value' -> [name, value]. The value is never quoted in an error: it may be a secret. */
export function header(flag: string, text: string): [string, string] {
  const colon = text.indexOf(':')
  const name = colon > 0 ? text.slice(0, colon).trim() : ''
  if (!HEADER_NAME.test(name)) {
    throw new UsageError(
      `${flag} must look like 'Name: value', got ${colon > 0 ? `a header named ${describeValue(name)}` : 'a value without a colon'}`,
    )
  }
  return [name, headerValue(flag, name, text.slice(colon + 1).trim())]
}

/**
 * No control character but tab may be in a header value (RFC 9110): refused here, before anything
 * runs, since every request would carry it and fail. The value is not quoted: it may be a secret.
 */
function headerValue(flag: string, name: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  const control = /[\x00-\x08\x0a-\x1f\x7f]/.exec(value)
  if (control === null) return value
  const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
  throw new UsageError(
    `${flag} '${name}: …': the value holds a control character (${code}), which no header may carry`,
  )
}

/**
 * --header-env 'Authorization: API_TOKEN' takes the value from $API_TOKEN;
 * 'Authorization: Bearer $API_TOKEN' (or ${API_TOKEN}) puts the variable inside a template.
 */
export function headerFromEnv(
  flag: string,
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): [string, string] {
  const [name, template] = header(flag, text)
  const lookup = (variable: string) => {
    const value = env[variable]
    if (value === undefined || value === '') {
      throw new UsageError(`${flag} '${name}: ${template}': the environment variable ${variable} is not set`)
    }
    return value
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(template)) return [name, headerValue(flag, name, lookup(template))]
  if (!/\$\{?[A-Za-z_]/.test(template)) {
    throw new UsageError(
      `${flag} '${name}: …' must name an environment variable (API_TOKEN, or 'Bearer $API_TOKEN')`,
    )
  }
  const value = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, a, b) =>
    lookup(a ?? b),
  )
  return [name, headerValue(flag, name, value)]
}

/** 'i/n' with 1 <= i <= n. */
export function shard(flag: string, value: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim())
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (match && count >= 1 && index >= 1 && index <= count) return { index, count }
  throw new UsageError(
    `${flag} must be i/n with 1 <= i <= n (e.g. 1/4 for the first of four), got ${describeValue(value)}`,
  )
}

/**
 * The command line with secrets hidden, for "run this to resume" hints. Every argument is masked
 * whatever option it belongs to (a value may be attached in many ways: '--header=K: V', '-HK: V',
 * '-qHK: V', '-bhttp://user:pw@host'): a URL anywhere in it loses its password and secret
 * parameters, and a 'Name: value' with a secret header name loses its value.
 */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map(redactArgument)
}

const URL_IN_ARGUMENT = /[a-z][a-z0-9+.-]*:\/\/\S+/gi
const HEADER_IN_ARGUMENT = /^(-[A-Za-z]*H|--[a-z][a-z-]*=)?([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*([\s\S]*)$/

function redactArgument(arg: string): string {
  const header = HEADER_IN_ARGUMENT.exec(arg)
  if (header && isSecretHeader(header[2]!)) return `${header[1] ?? ''}${header[2]}: ${REDACTED}`
  return arg.replace(URL_IN_ARGUMENT, (url) => maskUrl(url))
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

function translate<T>(parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    if (error instanceof InvalidOptionError) throw new UsageError(error.message)
    throw error
  }
}
