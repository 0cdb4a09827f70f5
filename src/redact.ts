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
 * secret values (the client's own header and parameter values; see redactBody for where) and
 * anything that looks like a credential.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = redactValues(text, hunted(secrets), false)
  for (const pattern of CREDENTIAL_PATTERNS)
    out = out.replace(pattern, (_m, scheme: string) => `${scheme} ${REDACTED}`)
  return redactQuery(out)
}

/**
 * A response body with the known secret values replaced, and nothing else: it is data, and words
 * that merely look like credentials are kept. A distinctive secret is replaced wherever it occurs;
 * a short or plain one ('xyz', 'test', '2024') only where it stands as a value, since it also
 * occurs as ordinary data. Valid JSON stays valid JSON: only its strings are rewritten (numbers
 * never), and only those holding a secret; a body without a secret is returned as is.
 */
export function redactBody(text: string, secrets: readonly string[]): string {
  const values = hunted(secrets)
  if (values.length === 0) return text
  if (!values.some((secret) => text.includes(secret)) && !mayBeEscaped(text, values)) return text
  try {
    JSON.parse(text)
  } catch {
    return redactValues(text, values, false)
  }
  let valueAt = -1
  let secretKey = false
  return text.replace(JSON_STRING, (token: string, at: number) => {
    const value = token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1)
    KEY_END.lastIndex = at + token.length
    const isKey = KEY_END.test(text)
    // Under a key such as "x-api-key" or "password", a short secret is the credential, not a word.
    const named = !isKey && at === valueAt && secretKey
    if (isKey) {
      valueAt = KEY_END.lastIndex
      secretKey = isSecretHeader(value)
    }
    const redacted = redactValues(value, values, named)
    return redacted === value ? token : JSON.stringify(redacted)
  })
}

/** Whether JSON escapes could spell a secret the text does not hold as such ('\\u0078yz', 'a\\/b'). */
function mayBeEscaped(text: string, secrets: readonly string[]): boolean {
  if (!text.includes('\\')) return false
  // '/' too: some servers (PHP's json_encode) write it as '\\/'.
  const escapable = (secret: string) => secret.includes('/') || JSON.stringify(secret) !== `"${secret}"`
  return text.includes('\\u') || secrets.some(escapable)
}

/** A JSON string token: in valid JSON, every '"' outside a string starts one. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g
/** What follows an object key: the colon, and the spaces up to its value. */
const KEY_END = /\s*:\s*/y

/** The secrets worth looking for, longest first (so 'Bearer abc' goes before 'abc'). */
/** Lists already made ready, by the list they came from: the CLI passes the same one for every line. */
const huntedLists = new WeakMap<readonly string[], string[]>()

/** The secrets to look for, longest first (so a secret inside a longer one is not half-replaced). */
function hunted(secrets: readonly string[]): string[] {
  let list = huntedLists.get(secrets)
  if (list === undefined) {
    list = [...new Set(secrets)].filter((secret) => secret !== '').sort((a, b) => b.length - a.length)
    huntedLists.set(secrets, list)
  }
  return list
}

/**
 * Long enough and mixed enough (letters and digits or symbols, or 16+ characters) that finding it
 * in text means it leaked, not that a word or a number happens to be spelled the same.
 */
function isDistinctive(secret: string): boolean {
  if (secret.length < 8 || /\s/.test(secret)) return false
  return secret.length >= 16 || !/^(?:[A-Za-z]+|[0-9]+)$/.test(secret)
}

/** Replaces distinctive secrets wherever they occur, the others where they stand as a value. */
function redactValues(text: string, secrets: readonly string[], named: boolean): string {
  let out = text
  for (const secret of secrets) {
    if (!out.includes(secret)) continue
    out = isDistinctive(secret) ? out.split(secret).join(REDACTED) : redactStandalone(out, secret, named)
  }
  return out
}

function redactStandalone(text: string, secret: string, named: boolean): string {
  let out = ''
  let from = 0
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
    if (at < from || !standsAlone(text, at, at + secret.length, secret, named)) continue
    out += text.slice(from, at) + REDACTED
    from = at + secret.length
  }
  return out + text.slice(from)
}

/** 'X-Api-Key: ', '"api_key":"', 'token=', 'Authorization: Bearer ': a name, then its value. */
const NAMED_VALUE = /([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Digest|Token)\s+)?$/i

/**
 * Whether text[at, end) is the value itself: the whole text, a quoted string, the value of a
 * secret name ('x-api-key: xyz'), or a whole word of a value under a secret key (`named`). Never
 * part of a longer word or number ('latest' holds 'test', '12024' holds '2024').
 */
function standsAlone(text: string, at: number, end: number, secret: string, named: boolean): boolean {
  const before = text.charAt(at - 1)
  const after = text.charAt(end)
  if (partOf(before, secret) || partOf(after, secret)) return false
  if (named || (at === 0 && end === text.length)) return true
  if ((before === '"' || before === "'") && after === before) return true
  const name = NAMED_VALUE.exec(text.slice(Math.max(0, at - 64), at))?.[1]
  return name !== undefined && isSecretHeader(name)
}

/** A character that continues the secret's word: a letter, a digit, or one of the secret's own. */
function partOf(char: string, secret: string): boolean {
  return char !== '' && (/[A-Za-z0-9]/.test(char) || secret.includes(char))
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
