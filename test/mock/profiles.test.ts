import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { startMockServer } from '../../src/mock/index.js'
import { call } from './client.js'

// Real loopback, windows long enough that nothing expires mid-test unless a test waits for it on
// purpose; the quota arithmetic itself is tested on explicit times in quotas.test.ts.
const PROMPT = 'x'.repeat(40) // 10 tokens of prompt at 4 characters a token
const chat = (maxTokens: number, content = PROMPT) => ({
  model: 'gpt-mock',
  messages: [{ role: 'user', content }],
  max_tokens: maxTokens,
})
const GO_DURATION = /^(?:\d+ms|(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s)$/
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z$/

describe('profile openai', () => {
  test('a 200 carries the six x-ratelimit headers and an OpenAI body with usage; the charge is max_tokens + ceil(chars/4)', async () => {
    await using server = await startMockServer({
      profile: { name: 'openai', requests: '3/30s', tokens: '1000/30s' },
      seed: 7,
    })
    const reply = await call(`${server.url}/v1/chat/completions`, { json: chat(100, `${PROMPT}abc`) })
    expect(reply.status).toBe(200)
    const { usage } = reply.json
    expect(usage.prompt_tokens).toBe(11) // ceil(43 / 4)
    expect(usage.completion_tokens).toBeGreaterThanOrEqual(50)
    expect(usage.completion_tokens).toBeLessThanOrEqual(100)
    expect(usage.total_tokens).toBe(11 + usage.completion_tokens)
    expect(reply.json).toMatchObject({ object: 'chat.completion', model: 'gpt-mock' })
    expect(reply.json.choices[0].message.role).toBe('assistant')
    const h = reply.headers
    expect(h['x-ratelimit-limit-requests']).toBe('3')
    expect(h['x-ratelimit-limit-tokens']).toBe('1000')
    expect(h['x-ratelimit-remaining-requests']).toBe('2')
    // Settled to the usage reported: the headers count what the server now holds.
    expect(h['x-ratelimit-remaining-tokens']).toBe(String(1000 - usage.total_tokens))
    expect(h['x-ratelimit-reset-requests']).toMatch(GO_DURATION)
    expect(h['x-ratelimit-reset-tokens']).toMatch(GO_DURATION)
    expect(h['ratelimit-policy']).toBeUndefined()
    expect(server.stats().tokens).toEqual({ charged: 111, used: usage.total_tokens, refused: 0 })
  })

  test('N requests are admitted and the N+1th is refused 429 with retry-after and an OpenAI error', async () => {
    await using server = await startMockServer({
      profile: { name: 'openai', requests: '3/30s', tokens: '100000/30s' },
    })
    const statuses = []
    for (let i = 0; i < 3; i++)
      statuses.push((await call(`${server.url}/v1/chat/completions`, { json: chat(10) })).status)
    const refused = await call(`${server.url}/v1/chat/completions`, { json: chat(10) })
    expect([...statuses, refused.status]).toEqual([200, 200, 200, 429])
    const retryAfter = Number(refused.headers['retry-after'])
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30).toBe(true)
    expect(refused.headers['x-ratelimit-remaining-requests']).toBe('0')
    expect(refused.json.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded' })
    expect(server.stats()).toMatchObject({ rateLimited: 1, tokens: { charged: 60, refused: 20 } })
  })

  test('the token budget: a request one token over what is left is refused, one that fits exactly is admitted', async () => {
    await using server = await startMockServer({
      profile: { name: 'openai', requests: '100/30s', tokens: '500/30s' },
    })
    const first = await call(`${server.url}/v1/chat/completions`, { json: chat(200) })
    const left = Number(first.headers['x-ratelimit-remaining-tokens'])
    expect(left).toBe(500 - first.json.usage.total_tokens)
    const over = await call(`${server.url}/v1/chat/completions`, { json: chat(left - 10 + 1) })
    expect(over.status).toBe(429)
    expect(over.json.error.type).toBe('tokens')
    expect(over.headers['retry-after']).toMatch(/^\d+$/)
    const fits = await call(`${server.url}/v1/chat/completions`, { json: chat(left - 10) })
    expect(fits.status).toBe(200)
    expect(Number(fits.headers['x-ratelimit-remaining-tokens'])).toBeGreaterThanOrEqual(0)
  })

  test('a request larger than the whole token budget is refused without retry-after: waiting cannot help', async () => {
    await using server = await startMockServer({
      profile: { name: 'openai', requests: '10/s', tokens: '100/s' },
    })
    const reply = await call(`${server.url}/v1/chat/completions`, { json: chat(91) })
    expect(reply.status).toBe(429)
    expect(reply.headers['retry-after']).toBeUndefined()
    expect(reply.json.error.message).toMatch(/Request too large/)
  })

  test('other endpoints cost one request and no tokens; a bad body is a 400 that costs nothing', async () => {
    await using server = await startMockServer({
      profile: { name: 'openai', requests: '5/30s', tokens: '100/30s' },
    })
    const json = await call(`${server.url}/json`)
    expect(json.headers['x-ratelimit-remaining-requests']).toBe('4')
    expect(json.headers['x-ratelimit-remaining-tokens']).toBe('100')
    const bad = await call(`${server.url}/v1/chat/completions`, { json: { model: 'm', messages: [] } })
    expect(bad.status).toBe(400)
    expect(bad.headers['x-ratelimit-remaining-requests']).toBeUndefined()
    expect((await call(`${server.url}/json`)).headers['x-ratelimit-remaining-requests']).toBe('3')
  })
})

describe('profile anthropic', () => {
  const message = (maxTokens: number) => ({
    model: 'claude-mock',
    max_tokens: maxTokens,
    system: 'sys!', // 4 characters: counted with the messages
    messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }],
  })

  test('a 200 carries the four anthropic-ratelimit families with RFC 3339 resets, and usage', async () => {
    await using server = await startMockServer({
      profile: { name: 'anthropic', requests: '2/30s', tokens: '1000/30s', outputTokens: '400/30s' },
    })
    const before = Date.now()
    const reply = await call(`${server.url}/v1/messages`, { json: message(100) })
    expect(reply.status).toBe(200)
    expect(reply.json).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-mock' })
    const { input_tokens: input, output_tokens: output } = reply.json.usage
    expect(input).toBe(11) // ceil(44 / 4)
    expect(output).toBeGreaterThanOrEqual(50)
    expect(output).toBeLessThanOrEqual(100)
    const h = reply.headers
    const expected: Record<string, [string, number]> = {
      requests: ['2', 1],
      tokens: ['1000', 1000 - input - output],
      'input-tokens': ['1000', 1000 - input],
      'output-tokens': ['400', 400 - output],
    }
    for (const [family, [limit, remaining]] of Object.entries(expected)) {
      expect(h[`anthropic-ratelimit-${family}-limit`]).toBe(limit)
      expect(h[`anthropic-ratelimit-${family}-remaining`]).toBe(String(remaining))
      const reset = h[`anthropic-ratelimit-${family}-reset`]!
      expect(reset).toMatch(RFC3339)
      expect(Date.parse(reset)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
      expect(Date.parse(reset)).toBeLessThanOrEqual(Date.now() + 31_000)
    }
  })

  test('past the request budget: 429 with retry-after and an Anthropic rate_limit_error', async () => {
    await using server = await startMockServer({ profile: { name: 'anthropic', requests: '2/30s' } })
    expect((await call(`${server.url}/v1/messages`, { json: message(10) })).status).toBe(200)
    expect((await call(`${server.url}/v1/messages`, { json: message(10) })).status).toBe(200)
    const refused = await call(`${server.url}/v1/messages`, { json: message(10) })
    expect(refused.status).toBe(429)
    expect(refused.headers['retry-after']).toMatch(/^\d+$/)
    expect(refused.headers['anthropic-ratelimit-requests-remaining']).toBe('0')
    expect(refused.json).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
  })

  test('the output-token budget binds on max_tokens; Anthropic requires max_tokens', async () => {
    await using server = await startMockServer({ profile: { name: 'anthropic', outputTokens: '100/30s' } })
    const over = await call(`${server.url}/v1/messages`, { json: message(101) })
    expect(over.status).toBe(429)
    expect(over.json.error.message).toMatch(/output tokens/)
    const { max_tokens: _, ...missing } = message(1)
    expect((await call(`${server.url}/v1/messages`, { json: missing })).status).toBe(400)
  })
})

describe('profile github', () => {
  test('a fixed window: N admitted with x-ratelimit-* headers, then 403 with remaining 0, then whole again at reset', async () => {
    await using server = await startMockServer({ profile: { name: 'github', requests: '3/1s' } })
    const replies = []
    for (let i = 0; i < 4; i++) replies.push(await call(`${server.url}/items/${i}`))
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 403])
    expect(replies.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0', '0'])
    expect(replies.map((r) => r.headers['x-ratelimit-used'])).toEqual(['1', '2', '3', '3'])
    for (const { headers } of replies) {
      expect(headers['x-ratelimit-limit']).toBe('3')
      expect(headers['x-ratelimit-resource']).toBe('core')
      expect(Math.abs(Number(headers['x-ratelimit-reset']) - Date.now() / 1000)).toBeLessThanOrEqual(2)
    }
    const refused = replies[3]!
    expect(refused.headers['retry-after']).toBeUndefined()
    expect(refused.json.message).toMatch(/API rate limit exceeded/)
    await sleep(1050)
    const after = await call(`${server.url}/items/9`)
    expect(after.status).toBe(200)
    expect(after.headers['x-ratelimit-remaining']).toBe('2')
  })

  test('the secondary limit: one more than `secondary` in flight is refused 403 with retry-after and its message', async () => {
    await using server = await startMockServer({
      profile: { name: 'github', requests: '100/30s', secondary: 2 },
    })
    const replies = await Promise.all([0, 1, 2].map(() => call(`${server.url}/delay/300`)))
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 403])
    const refused = replies.find((r) => r.status === 403)!
    expect(refused.headers['retry-after']).toBe('1') // a sixtieth of the 30 s window, rounded up
    expect(refused.json.message).toMatch(/secondary rate limit/)
    // It did not count against the primary limit.
    expect((await call(`${server.url}/json`)).headers['x-ratelimit-used']).toBe('3')
  })
})

describe('profile shopify', () => {
  test('X-Shopify-Shop-Api-Call-Limit counts up to the bucket size, then 429 with a decimal Retry-After', async () => {
    await using server = await startMockServer({ profile: { name: 'shopify', requests: '1/10s', bucket: 3 } })
    const replies = []
    for (let i = 0; i < 4; i++) replies.push(await call(`${server.url}/json`))
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429])
    expect(replies.map((r) => r.headers['x-shopify-shop-api-call-limit'])).toEqual([
      '1/3',
      '2/3',
      '3/3',
      '3/3',
    ])
    const retryAfter = replies[3]!.headers['retry-after']!
    expect(retryAfter).toMatch(/^\d+\.\d$/)
    expect(Number(retryAfter)).toBeGreaterThan(9)
    expect(Number(retryAfter)).toBeLessThanOrEqual(10)
    expect(replies[3]!.json.errors).toMatch(/Exceeded 1 calls per 10 second/)
  })

  test('the bucket leaks: after a full bucket, waiting one leak interval lets one more in', async () => {
    await using server = await startMockServer({ profile: { name: 'shopify', requests: '10/s', bucket: 2 } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await call(`${server.url}/json`)).status)
    expect(statuses).toEqual([200, 200, 429])
    await sleep(150)
    expect((await call(`${server.url}/json`)).status).toBe(200)
    expect(server.stats()).toMatchObject({ requests: 4, rateLimited: 1 })
  })
})

describe('profile ietf and options', () => {
  test("profile 'ietf' is today's behaviour: the RateLimit headers of `rate`", async () => {
    await using server = await startMockServer({ profile: 'ietf', rate: '2/30s' })
    const reply = await call(`${server.url}/json`)
    expect(reply.headers['ratelimit-policy']).toBe('"default";q=2;w=30')
    expect(reply.headers.ratelimit).toMatch(/^"default";r=1;t=\d+$/)
    expect(server.options.profile).toEqual({ name: 'ietf' })
  })

  test('a profile name alone takes its documented defaults', async () => {
    await using server = await startMockServer({ profile: 'openai' })
    expect(server.options.profile).toEqual({
      name: 'openai',
      requests: { limit: 500, interval: 60_000 },
      tokens: { limit: 30_000, interval: 60_000 },
    })
    expect(server.options.statsWindow).toBe(60_000)
  })

  test.each([
    [
      { profile: 'stripe' },
      /unknown profile name "stripe" \(known: ietf, openai, anthropic, github, shopify\)/,
    ],
    [
      { profile: { name: 'openai', token: '5/s' } },
      /unknown field `token` for openai \(known: requests, tokens\)/,
    ],
    [{ profile: { name: 'openai', tokens: 'lots' } }, /option `profile`.tokens must be a rate/],
    [{ profile: { name: 'shopify', bucket: 0 } }, /`profile`.bucket must be a whole number >= 1, got 0/],
    [{ profile: { name: 'github', secondary: 1.5 } }, /`profile`.secondary must be a whole number >= 1/],
    [{ profile: 'openai', rate: '5/s' }, /option `rate` is the ietf profile's quota/],
    [{ profile: 42 }, /option `profile` must be a profile name/],
  ])('bad profile options are refused naming the option: %j', async (options, message) => {
    await expect(startMockServer(options as never)).rejects.toThrow(message)
  })
})
