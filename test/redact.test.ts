import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  isSecretHeader,
  isSecretParam,
  redactBody,
  redactHeaders,
  redactText,
  redactUrl,
  redisAddress,
  secretValues,
} from '../src/redact.js'

describe('what counts as secret', () => {
  test.each([
    ['Authorization', true],
    ['proxy-authorization', true],
    ['Cookie', true],
    ['X-API-Key', true],
    ['api-key', true],
    ['X-Auth-Token', true],
    ['x-goog-api-key', true],
    ['X-Client-Secret', true],
    ['content-type', false],
    ['accept', false],
    ['x-request-id', false],
  ])('header %s is secret: %s', (name, secret) => {
    expect(isSecretHeader(name)).toBe(secret)
  })

  test.each([
    ['token', true],
    ['key', true],
    ['api_key', true],
    ['apiKey', true],
    ['access_token', true],
    ['password', true],
    ['client_secret', true],
    ['signature', true],
    ['X-Amz-Signature', true],
    ['q', false],
    ['page', false],
    ['id', false],
  ])('query parameter %s is secret: %s', (name, secret) => {
    expect(isSecretParam(name)).toBe(secret)
  })
})

describe('redacting', () => {
  test.each([
    ['https://api.example.com/a?token=abc&q=x', 'https://api.example.com/a?token=[REDACTED]&q=x'],
    ['https://u:pw@api.example.com/a', 'https://[REDACTED]@api.example.com/a'],
    [
      'https://api.example.com/a?api_key=1&page=2&sig=zz',
      'https://api.example.com/a?api_key=[REDACTED]&page=2&sig=[REDACTED]',
    ],
    ['https://api.example.com/a?access%5Ftoken=abc', 'https://api.example.com/a?access%5Ftoken=[REDACTED]'],
    ['/relative?password=hunter2', '/relative?password=[REDACTED]'],
    ['https://api.example.com/a?api_key=abc;def123&q=1', 'https://api.example.com/a?api_key=[REDACTED]&q=1'],
  ])('%s becomes %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted)
  })

  test('headers keep their names and lose secret values', () => {
    expect(redactHeaders({ authorization: 'Bearer x', accept: 'json', 'x-api-key': 'k' })).toEqual({
      authorization: '[REDACTED]',
      accept: 'json',
      'x-api-key': '[REDACTED]',
    })
  })

  test('known secret values and credential-looking text are removed from free text', () => {
    const secrets = secretValues({ authorization: 'Bearer tok-123456', 'x-api-key': 'key-987654' })
    const text = 'echo: {"authorization":"Bearer tok-123456","x-api-key":"key-987654"} and tok-123456 again'
    const out = redactText(text, secrets)
    expect(out).not.toContain('tok-123456')
    expect(out).not.toContain('key-987654')
    expect(redactText('sent Basic dXNlcjpwYXNz here')).toBe('sent Basic [REDACTED] here')
  })
})

describe('redacting a response body', () => {
  test.each([
    ['a word that holds a short secret', '{"summary":"latest test results"}', ['test']],
    [
      'ids and dates spelled like a secret',
      '{"id":2024,"ids":[12024],"on":"2024-05-01","ref":"A-2024-7"}',
      ['2024'],
    ],
    ['a number equal to a secret', '{"price":998.01,"total":1998.01}', ['998.01', '8.01']],
    ['plain text holding a short secret', 'latest test results for 2024', ['test', '2024']],
    ['text that merely looks like a credential', '{"plan":"Basic tier","next":"/p?access_token=ab"}', ['zz']],
  ])('%s is kept byte for byte', (_what, body, secrets) => {
    expect(redactBody(body, secrets)).toBe(body)
  })

  test.each([
    [
      'a JSON string equal to a secret, however short',
      '{"x-api-key":"xyz"}',
      ['xyz'],
      '{"x-api-key":"[REDACTED]"}',
    ],
    [
      'a short secret under a secret key',
      '{"authorization":"Token xyz"}',
      ['xyz'],
      '{"authorization":"Token [REDACTED]"}',
    ],
    [
      'a short secret after a secret name',
      '{"raw":"X-Api-Key: xyz"}',
      ['xyz'],
      '{"raw":"X-Api-Key: [REDACTED]"}',
    ],
    ['a secret with a slash escaped as PHP does', '{"k":"ab\\/cd12"}', ['ab/cd12'], '{"k":"[REDACTED]"}'],
    ['a secret spelled with JSON escapes', '{"k":"\\u0078yz"}', ['xyz'], '{"k":"[REDACTED]"}'],
    [
      'a distinctive secret anywhere in a string',
      '{"u":"/x?c=ab12cd34ef&n=1"}',
      ['ab12cd34ef'],
      '{"u":"/x?c=[REDACTED]&n=1"}',
    ],
    [
      'a quoted short secret in a body cut short',
      '{"x-api-key":"xyz","det',
      ['xyz'],
      '{"x-api-key":"[REDACTED]","det',
    ],
    ['a whole text body equal to the secret', 'xyz', ['xyz'], '[REDACTED]'],
  ])('%s is redacted', (_what, body, secrets, redacted) => {
    expect(redactBody(body, secrets)).toBe(redacted)
  })

  test('an error message keeps words that hold a short secret, and loses the secret as a value', () => {
    expect(redactText('GET http://h/tests/1 answered 404: {"key":"test"}', ['test'])).toBe(
      'GET http://h/tests/1 answered 404: {"key":"[REDACTED]"}',
    )
  })

  const STRING = /"(?:[^"\\]|\\.)*"/g
  /** Strings (keys and values) of valid JSON text, decoded, in order. */
  const stringsOf = (json: string): string[] =>
    (json.match(STRING) ?? []).map((token) => JSON.parse(token) as string)
  const secret = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'abxyz019 -."\\\n/é'), minLength: 1, maxLength: 6 }),
    // Letters and a digit, 8 or more: distinctive, so hunted everywhere.
    fc
      .string({ unit: fc.constantFrom(...'abcdef0123456789-_.'), minLength: 6, maxLength: 22 })
      .map((s) => `${s}a1`),
  )
  const case_ = fc.uniqueArray(secret, { minLength: 1, maxLength: 4 }).chain((secrets) => {
    const piece = fc.string({ unit: fc.constantFrom(...'abxyz019 -.:="\\\n'), maxLength: 8 })
    const string = fc.oneof(
      piece,
      fc.constantFrom(...secrets),
      fc.tuple(piece, fc.constantFrom(...secrets), piece).map((parts) => parts.join('')),
      fc.constantFrom(...secrets).map((s) => `x-api-key: ${s}`),
    )
    const key = fc.oneof(piece, fc.constantFrom('x-api-key', 'password', 'authorization', ...secrets))
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        string,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      ),
    }))
    return fc.record({ secrets: fc.constant(secrets), value, indent: fc.constantFrom(0, 2) })
  })

  test('any JSON and any secrets: valid JSON out, no secret left as a string, numbers and secret-free strings untouched', () => {
    fc.assert(
      fc.property(case_, ({ secrets, value, indent }) => {
        const body = JSON.stringify(value, null, indent)
        const out = redactBody(body, secrets)
        expect(() => JSON.parse(out)).not.toThrow()
        const before = stringsOf(body)
        const after = stringsOf(out)
        expect(after).toHaveLength(before.length)
        // Only strings are rewritten: everything between them (numbers, spaces, punctuation) is the same bytes.
        expect(out.replace(STRING, '""')).toBe(body.replace(STRING, '""'))
        const distinctive = secrets.filter((s) => s.length >= 8)
        before.forEach((was, i) => {
          const now = after[i]!
          if (!secrets.some((s) => was.includes(s))) expect(now).toBe(was)
          expect(secrets).not.toContain(now)
          for (const s of distinctive) expect(now).not.toContain(s)
        })
        if (before.every((was) => !secrets.some((s) => was.includes(s)))) expect(out).toBe(body)
      }),
      { numRuns: 500 },
    )
  })
})

describe('naming a Redis server', () => {
  test.each([
    ['redis://user:s3cret@cache.example.com:6380/2', 'redis://cache.example.com:6380/2'],
    ['rediss://:s3cret@cache.example.com', 'rediss://cache.example.com:6379'],
    ['redis://127.0.0.1:6379/', 'redis://127.0.0.1:6379'],
    ['not a url', 'the Redis server (unparsable URL)'],
  ])('%s is named %s, with no trace of a password', (url, address) => {
    expect(redisAddress(url)).toBe(address)
  })
})
