import { describe, expect, test } from 'vitest'
import { isRetryable, mayRetryMethod, resolveRetry, retryDelay } from '../../src/http/retry.js'
import { backoffDelay } from '../../src/limit/backoff.js'

const policy = resolveRetry({ attempts: 6, backoff: { base: 100, max: 1000 } })

describe('backoff', () => {
  test.each([
    // retry, random, delay: the ceiling doubles from base and stops at max; the draw scales it.
    [1, 0.999, 99],
    [2, 0.999, 199],
    [3, 0.999, 399],
    [4, 0.999, 799],
    [5, 0.999, 999],
    [9, 0.999, 999],
    [1, 0, 0],
    [3, 0.5, 200],
    [5, 0.5, 500],
  ])('retry %i with draw %f waits %i ms (full jitter, capped)', (retry, random, delay) => {
    expect(backoffDelay(policy, retry, random)).toBe(delay)
  })

  test('a server-given Retry-After is used as is, without jitter or the backoff cap', () => {
    expect(retryDelay(policy, 1, 5000, 0.3)).toEqual({ delay: 5000, source: 'retry-after' })
    expect(retryDelay(policy, 1, 0, 0.3)).toEqual({ delay: 0, source: 'retry-after' })
    expect(retryDelay(policy, 2, undefined, 0.5)).toEqual({ delay: 100, source: 'backoff' })
  })
})

describe('which requests may be retried', () => {
  const defaults = resolveRetry(undefined)
  test.each([
    ['GET', false, true],
    ['HEAD', false, true],
    ['OPTIONS', false, true],
    ['PUT', false, true],
    ['DELETE', false, true],
    ['POST', false, false],
    ['PATCH', false, false],
    ['POST', true, true],
  ])('%s with an Idempotency-Key: %s -> retryable: %s', (method, key, expected) => {
    expect(mayRetryMethod(defaults, method, key)).toBe(expected)
  })

  test('retryPost opts POST and PATCH in', () => {
    const optedIn = resolveRetry({ retryPost: true })
    expect(mayRetryMethod(optedIn, 'POST', false)).toBe(true)
    expect(mayRetryMethod(optedIn, 'PATCH', false)).toBe(true)
  })

  test.each([
    [{ kind: 'status', status: 408 }, true],
    [{ kind: 'status', status: 425 }, true],
    [{ kind: 'status', status: 429 }, true],
    [{ kind: 'status', status: 500 }, true],
    [{ kind: 'status', status: 502 }, true],
    [{ kind: 'status', status: 503 }, true],
    [{ kind: 'status', status: 504 }, true],
    [{ kind: 'status', status: 400 }, false],
    [{ kind: 'status', status: 401 }, false],
    [{ kind: 'status', status: 404 }, false],
    [{ kind: 'status', status: 501 }, false],
    [{ kind: 'timeout' }, true],
    [{ kind: 'network', code: 'ECONNRESET' }, true],
    [{ kind: 'network', code: 'ECONNREFUSED' }, true],
    [{ kind: 'network', code: 'UND_ERR_SOCKET' }, true],
    [{ kind: 'network', code: 'ENOTFOUND' }, false],
    [{ kind: 'network', code: undefined }, false],
    [{ kind: 'fatal' }, false],
  ] as const)('outcome %j is retryable: %s', (outcome, expected) => {
    expect(isRetryable(resolveRetry(undefined), outcome)).toBe(expected)
  })
})

describe('resolving the retry option', () => {
  test('a number counts retries, false turns them off, the default is 3 attempts', () => {
    expect(resolveRetry(2).attempts).toBe(3)
    expect(resolveRetry(0).attempts).toBe(1)
    expect(resolveRetry(false).attempts).toBe(1)
    expect(resolveRetry(undefined).attempts).toBe(3)
    expect(resolveRetry({ backoff: { base: '1s' } })).toMatchObject({ base: 1000, max: 20_000 })
  })

  test.each([
    [-1, /whole number of retries >= 0, got -1/],
    [1.5, /whole number of retries >= 0, got 1.5/],
    ['3', /must be a number of retries, false, or \{/],
    [{ attempts: 0 }, /retry`.attempts must be a whole number >= 1, got 0/],
    [{ statuses: [700] }, /statuses must be an array of HTTP statuses/],
    [{ methods: ['G T'] }, /methods must be an array of method names/],
    [{ backoff: { base: 500, max: 100 } }, /backoff.max \(100 ms\) must be >= backoff.base \(500 ms\)/],
    [{ attempt: 3 }, /unknown field `attempt`/],
    [{ retryPost: 'yes' }, /retryPost must be true or false, got "yes"/],
  ])('retry %j is refused, naming the field and value', (value, message) => {
    expect(() => resolveRetry(value)).toThrow(message)
  })
})

describe('a refusal always waits a floor', () => {
  test('after a 429 or 503, a Retry-After of 0 (or none, or a past date) waits half the backoff ceiling or more', () => {
    // ceiling for retry 1 is base 100: the floor is in [50, 100]; for retry 3 it is 400: [200, 400].
    expect(retryDelay(policy, 1, 0, 0, true)).toEqual({ delay: 50, source: 'backoff' })
    expect(retryDelay(policy, 1, undefined, 0.999, true)).toEqual({ delay: 99, source: 'backoff' })
    expect(retryDelay(policy, 3, 0, 0.5, true)).toEqual({ delay: 300, source: 'backoff' })
  })

  test('a Retry-After at or above the floor is used as is', () => {
    expect(retryDelay(policy, 1, 5000, 0.3, true)).toEqual({ delay: 5000, source: 'retry-after' })
    expect(retryDelay(policy, 1, 50, 0, true)).toEqual({ delay: 50, source: 'retry-after' })
  })
})
