import { afterAll, describe, expect, it } from 'vitest'
import { costFields, withCostFields } from '../../src/cli/cost-field.js'
import { InputError } from '../../src/cli/input/entry.js'
import { run } from '../../src/cli/main.js'
import { CostTally, reportedTokens } from '../../src/cli/report/costs.js'
import { formatSummary, type Summary, summarize } from '../../src/cli/report/summary.js'
import { RunStats } from '../../src/cli/report/stats.js'
import { createManualClock } from '../../src/limit/clock.js'
import { startMockServer } from '../../src/mock/index.js'
import { fakeIo } from './fake-io.js'
import { readOutput, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.remove())

/** `volley run` in this process; the summary comes from --json (on stdout). */
async function volleyRun(args: string[]): Promise<{ code: number; summary: Summary; stderr: string }> {
  const io = fakeIo()
  const code = await run(['run', ...args, '--json', '--overwrite'], io)
  const summary = JSON.parse(io.stdout.text.trim().split('\n').at(-1)!) as Summary
  return { code, summary, stderr: io.stderr.text }
}

/**
 * `count` chat completions, max_tokens 100 to 500 (seeded), each with a one-token prompt: the
 * server charges max_tokens + 1, so json.max_tokens is the cost to within 1 token.
 */
function chats(count: number): { text: string; maxTokens: number[] } {
  let seed = 11
  const maxTokens = Array.from({ length: count }, () => {
    seed = (seed * 16_807) % 2_147_483_647
    return 100 + (seed % 401)
  })
  const lines = maxTokens.map((max_tokens, i) =>
    JSON.stringify({
      url: '/v1/chat/completions',
      id: `chat-${i + 1}`,
      json: { model: 'm', max_tokens, messages: [{ role: 'user', content: 'Hi' }] },
    }),
  )
  return { text: `${lines.join('\n')}\n`, maxTokens }
}

describe('volley run --cost-field against an LLM API with a token budget (mock openai profile)', () => {
  // 3,000 tokens/s and 100 requests/s, told to volley by the headers only. Four calls in flight
  // cost at most 4 x 501 tokens, under one window's budget: no call may be refused, not even
  // before volley has read the first headers.
  const profile = { name: 'openai' as const, requests: '100/s', tokens: '3000/s' }

  it('each line costs its json.max_tokens: every line ok, no 429, the summary counts the lines and the server', async () => {
    const { text, maxTokens } = chats(40)
    const input = tmp.file('chats.jsonl', text)
    await using server = await startMockServer({ profile, seed: 3 })
    const out = `${tmp.dir}/chats.results.jsonl`
    const args = [input, '--base-url', server.url, '--out', out, '--concurrency', '4']
    const { code, summary } = await volleyRun([...args, '--cost-field', 'json.max_tokens'])
    expect(code).toBe(0)
    expect(readOutput(out).every((line) => line.ok)).toBe(true)
    const stats = server.stats()
    expect(stats.rateLimited).toBe(0)
    expect(stats.requests).toBe(40)
    expect(summary.costs).toEqual({
      estimated: { tokens: maxTokens.reduce((a, b) => a + b, 0) },
      usageTokens: stats.tokens.used,
      budgets: [expect.objectContaining({ limit: 3000, unit: 'tokens', source: 'learned' })],
    })
  }, 30_000)

  it('without it the calls cost no tokens, and the same job overruns the budget (429s): the field is what holds it', async () => {
    const input = tmp.file('chats-nocost.jsonl', chats(40).text)
    await using server = await startMockServer({ profile, seed: 3 })
    const args = [
      input,
      '--base-url',
      server.url,
      '--out',
      `${tmp.dir}/nocost.results.jsonl`,
      '--concurrency',
      '4',
    ]
    const { summary } = await volleyRun(args)
    expect(server.stats().rateLimited).toBeGreaterThan(0)
    // A budget was in force: the summary says no line gave its cost.
    expect(summary.costs?.estimated).toEqual({})
    expect(formatSummary(summary)).toMatch(/tokens {4}none estimated: no line gave its cost/)
  }, 30_000)
})

describe('volley run --cost-field: bad values, own costs, given budgets', () => {
  it('a line whose field is not a number is an error result naming the line and the field; the rest run', async () => {
    await using server = await startMockServer()
    const lines = [
      { url: '/anything/a', json: { max_tokens: 100 } },
      { url: '/anything/b', json: { max_tokens: 'lots' } },
      { url: '/anything/c', json: { other: 1 } },
      // Its own cost wins over the flag.
      { url: '/anything/d', json: { max_tokens: 900 }, cost: { tokens: 7 } },
      { url: '/anything/e', json: { max_tokens: '50' } },
    ]
    const input = tmp.file('mixed.jsonl', lines.map((line) => JSON.stringify(line)).join('\n'))
    const out = `${tmp.dir}/mixed.results.jsonl`
    const { code, summary } = await volleyRun([
      input,
      ...['--base-url', server.url, '--out', out, '--cost-field', 'json.max_tokens'],
      // A budget given in tokens is accepted and reported as given.
      ...['--rate', '100000 tokens/s'],
    ])
    expect(code).toBe(1)
    const byIndex = new Map(readOutput(out).map((line) => [line.index, line]))
    expect(byIndex.size).toBe(5)
    expect(byIndex.get(2)!.error).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'line 2: --cost-field json.max_tokens: the cost in tokens must be a number >= 0, got "lots"',
    })
    expect(byIndex.get(3)!.error!.message).toBe(
      'line 3: --cost-field json.max_tokens: the cost in tokens must be a number >= 0, the line has no such field',
    )
    expect([1, 4, 5].map((i) => byIndex.get(i)!.ok)).toEqual([true, true, true])
    // Sent only: 100 + 7 (its own) + 50 (a number in a string counts, as CSV cells are strings).
    expect(summary.costs).toEqual({
      estimated: { tokens: 157 },
      usageTokens: null,
      budgets: [{ limit: 100_000, interval: 1000, unit: 'tokens', source: 'given' }],
    })
    expect(server.stats().requests).toBe(3)
  })

  it('refuses a bad --cost-field before anything is sent (exit 2), naming the flag', async () => {
    for (const [value, message] of [
      ['json..max_tokens', /--cost-field must be a dotted path .* got "json\.\.max_tokens"/],
      ['=json.x', /--cost-field must be a dotted path .* got "=json\.x"/],
      ['tok ens=json.x', /--cost-field must be a dotted path/],
    ] as const) {
      const io = fakeIo()
      expect(await run(['run', tmp.file('one.jsonl', '/items/1\n'), '--cost-field', value], io)).toBe(2)
      expect(io.stderr.text).toMatch(message)
    }
    expect(() => costFields('--cost-field', ['json.a', 'tokens=json.b'])).toThrow(
      /--cost-field gives the cost in tokens twice/,
    )
  })
})

describe('cost building blocks', () => {
  it('reads a cost at a dotted path, through arrays, per unit; leaves non-objects and own costs alone', () => {
    const fields = costFields('--cost-field', ['json.max_tokens', 'input-tokens=json.messages.0.n'])
    const spec = { url: '/v1/x', json: { max_tokens: 12, messages: [{ n: 3 }] } }
    expect(withCostFields(spec, fields, 1)).toEqual({ ...spec, cost: { tokens: 12, 'input-tokens': 3 } })
    expect(withCostFields('/plain', fields, 1)).toBe('/plain')
    const own = { ...spec, cost: { tokens: 1 } }
    expect(withCostFields(own, fields, 1)).toBe(own)
    // Inherited properties are no fields of a line.
    const proto = withCostFields({ url: '/x' }, costFields('f', ['constructor']), 4)
    expect(proto).toBeInstanceOf(InputError)
    const requests = withCostFields({ url: '/x', n: 1.5 } as never, costFields('f', ['requests=n']), 9)
    expect((requests as InputError).message).toBe(
      'line 9: --cost-field requests=n: the cost in requests must be a whole number >= 0, got 1.5',
    )
    for (const bad of [-1, null, true, '', 'NaN', Number.POSITIVE_INFINITY])
      expect(withCostFields({ url: '/x', t: bad } as never, costFields('f', ['t']), 2)).toBeInstanceOf(
        InputError,
      )
  })

  it("reads the tokens a response's usage reports, in OpenAI's and Anthropic's shapes, and nothing else", () => {
    expect(reportedTokens('{"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}')).toBe(7)
    expect(reportedTokens('{"usage":{"prompt_tokens":3,"completion_tokens":4}}')).toBe(7)
    expect(
      reportedTokens('{"usage":{"input_tokens":5,"output_tokens":6,"cache_read_input_tokens":10}}'),
    ).toBe(21)
    for (const body of [
      '{"id":1}',
      '{"usage":null}',
      '{"usage":{"x":1}}',
      '{"usage": broken',
      '"usage"',
      '[]',
    ])
      expect(reportedTokens(body), body).toBeUndefined()
  })

  it('the summary shows tokens only when a line had a cost or a budget was in force', () => {
    const stats = new RunStats(createManualClock())
    const extra = { exitCode: 0, out: 'out.jsonl', interrupted: false, stopped: undefined }
    expect(summarize(stats, extra).costs).toBeUndefined()
    expect(formatSummary(summarize(stats, extra))).not.toMatch(/tokens/)
    const tally: CostTally = stats.costs
    tally.result({ tokens: 100, 'output-tokens': 40 }, 1, undefined)
    // Not sent (attempts 0): no cost.
    tally.result({ tokens: 1000 }, 0, undefined)
    tally.budgets(
      [
        { limit: 5, interval: 1000 },
        { limit: 3000, interval: 1010, unit: 'tokens' },
      ],
      'learned',
    )
    expect(formatSummary(summarize(stats, extra))).toMatch(
      /^ {2}tokens {4}100 \+ 40 output-tokens estimated \(the lines' costs\) · budget 3000 tokens\/1\.0s \(learned\)$/m,
    )
  })
})
