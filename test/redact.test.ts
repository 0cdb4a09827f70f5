import { describe, expect, test } from 'vitest'
import {
  isSecretHeader,
  isSecretParam,
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
