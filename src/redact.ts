/**
 * Keeps secrets out of everything volley prints or serializes: error messages, `toJSON()`, events
 * and the CLI's output files. Pure functions; the client, the CLI and the Redis store share them.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]'

/** Header names whose values are always secret. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'x-auth-token',
  'x-access-token',
  'x-csrf-token',
  'x-xsrf-token',
])

/** Words that make a header or query parameter name secret wherever they appear in it. */
const SECRET_WORDS = new Set([
  'token',
  'key',
  'apikey',
  'secret',
  'password',
  'passwd',
  'pwd',
  'signature',
  'sig',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'session',
  'sessionid',
  'jwt',
  'bearer',
  'cookie',
])

/** Splits 'X-Api_Key', 'accessToken', 'client.secret' into lower-case words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
}

function hasSecretWord(name: string): boolean {
  for (const word of words(name)) if (SECRET_WORDS.has(word)) return true
  return false
}

/** True for headers such as Authorization, Cookie, X-Api-Key or anything naming a token or secret. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return SECRET_HEADERS.has(lower) || hasSecretWord(lower)
}

/** True for query parameters such as token, key, api_key, access_token, password, secret, signature. */
export function isSecretParam(name: string): boolean {
  return hasSecretWord(name)
}

/**
 * The URL with user info and the values of secret query parameters replaced by [REDACTED].
 * Text that is not a URL is returned with secret-looking `name=value` pairs redacted.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL
  try {
    parsed = typeof url === 'string' ? new URL(url) : url
  } catch {
    return redactQuery(String(url))
  }
  const auth = parsed.username || parsed.password ? `${REDACTED}@` : ''
  const query = parsed.search ? redactQuery(parsed.search) : ''
  return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname}${query}${parsed.hash ? '#…' : ''}`
}

/** A URL as typed, unless it carries a secret: then redacted (for messages that quote user input). */
export function maskUrl(text: string): string {
  const redacted = redactUrl(text)
  return redacted.includes(REDACTED) ? redacted : text
}

/**
 * Where a Redis URL points, for messages: scheme, host, port and database. Unlike redactUrl it keeps
 * no trace of the user name or password, not even that there was one: the address is what matters.
 */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url)
    const port = parsed.port || '6379'
    const db = parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : ''
    return `${parsed.protocol}//${parsed.hostname}:${port}${db}`
  } catch {
    return 'the Redis server (unparsable URL)'
  }
}

/** Redacts the values of secret parameters in a query string ('?a=1&token=x' -> '?a=1&token=[REDACTED]'). */
export function redactQuery(query: string): string {
  // A value runs to the next '&' or '#' (URLSearchParams reads 'a=b;c' as one value), or, in free
  // text, to whitespace or a quote.
  return query.replace(/([?&;]|^)([^=&?#;\s]+)=([^&#\s"'<>]*)/g, (whole, lead: string, name: string) => {
    let decoded = name
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '))
    } catch {
      // A malformed escape: judge the name as written.
    }
    return isSecretParam(decoded) ? `${lead}${name}=${REDACTED}` : whole
  })
}

/** A copy of the headers with secret values replaced by [REDACTED]. */
export function redactHeaders(
  headers: Record<string, string | readonly string[] | number | undefined>,
): Record<string, string | readonly string[] | number | undefined> {
  const out: Record<string, string | readonly string[] | number | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value !== undefined && isSecretHeader(name) ? REDACTED : value
  }
  return out
}

/** Credentials in text: 'Bearer abc', 'Basic abc', 'token=abc', '"api_key": "abc"'. */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [/\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9._~+/=-]+/gi]

/**
 * Removes secrets from free text (an error message, a response body excerpt): each of the known
 * secret values (the client's own header and parameter values, at least 4 characters long) and
 * anything that looks like a credential.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = redactSecrets(text, secrets)
  for (const pattern of CREDENTIAL_PATTERNS)
    out = out.replace(pattern, (_m, scheme: string) => `${scheme} ${REDACTED}`)
  return redactQuery(out)
}

/**
 * Replaces each known secret value (at least 4 characters long) and nothing else: for data such as
 * a response body, where guessing at credential-like words would corrupt ordinary content.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(REDACTED)
  }
  return out
}

/**
 * The values worth hunting for in text: secret header values (and the token part of
 * 'Bearer <token>'), and secret query parameter values of a URL.
 */
export function secretValues(
  headers: Record<string, string | readonly string[] | number | undefined> | undefined,
  url?: URL,
): string[] {
  const out: string[] = []
  if (headers) {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || !isSecretHeader(name)) continue
      for (const v of Array.isArray(value) ? value : [String(value)]) {
        out.push(v)
        const space = v.indexOf(' ')
        if (space > 0) out.push(v.slice(space + 1))
      }
    }
  }
  if (url) {
    for (const [name, value] of url.searchParams) if (isSecretParam(name) && value) out.push(value)
    if (url.password) out.push(url.password)
  }
  return out
}
