import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Command } from 'commander'
import { formatRate, type ResolvedRate } from '../../limit/units.js'
import { quotaUse } from '../../mock/quota-use.js'
import { startMockServer } from '../../mock/server.js'
import type { CommandContext } from '../context.js'
import { duration, oneOf, rates, wholeNumber } from '../flags.js'
import { chatsInput, itemsInput } from './demo-input.js'
import { runCommand } from './run.js'

interface DemoFlags {
  act?: string
  count: string
  rate: string
  latency: string
  chats: string
  tokens: string
  dir?: string
}

/** Act two's request quota: above what its token budget lets through, so tokens are what binds. */
const CHAT_REQUESTS = '20/s'

const EXAMPLES = `
Examples:
  $ volley demo                       # ~35 s: both acts
  $ volley demo --act 2               # ~10 s: only the LLM job with a token budget
  $ volley demo --count 200 --rate 100/s --dir ./.volley-demo`

export function demoCommand(context: CommandContext): Command {
  return new Command('demo')
    .description(
      'Run real jobs against a built-in mock API (rate limits, a token budget, latency, faults): no network, no setup',
    )
    .option('--act <n>', 'run only act 1 (a 40/s API with faults) or act 2 (an LLM API with a token budget)')
    .option('-n, --count <n>', 'act 1: requests in the input', '800')
    .option(
      '-r, --rate <rate>',
      "act 1: the mock API's quota (volley learns it from the RateLimit headers)",
      '40/s',
    )
    .option(
      '--latency <duration>',
      "act 1: the mock's largest latency (each request draws 10ms up to it)",
      '60ms',
    )
    .option('--chats <n>', 'act 2: chat completions in the input', '50')
    .option(
      '--tokens <rate>',
      "act 2: the LLM API's token budget (volley learns it from OpenAI's x-ratelimit-*-tokens headers)",
      '3000/s',
    )
    .option('--dir <dir>', 'where the inputs and results go (default: a new temporary directory)')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: DemoFlags) => {
      const { io } = context
      // Every flag is checked before the first act runs.
      const acts = flags.act === undefined ? ['1', '2'] : [oneOf('--act', flags.act, ['1', '2'])]
      const one = {
        count: wholeNumber('--count', flags.count, 1),
        rate: rates('--rate', [flags.rate])[0]!,
        latency: duration('--latency', flags.latency, { positive: false }),
      }
      const two = {
        chats: wholeNumber('--chats', flags.chats, 1),
        tokens: rates('--tokens', [flags.tokens])[0]!,
      }
      const dir = flags.dir ? resolve(io.cwd, flags.dir) : mkdtempSync(join(tmpdir(), 'volley-demo-'))
      mkdirSync(dir, { recursive: true })
      for (const act of acts) {
        const code = act === '1' ? await actOne(context, dir, one) : await actTwo(context, dir, two)
        if (context.exitCode === 0) context.exitCode = code
      }
      io.stderr.write(
        `\nvolley demo: the inputs and results are in ${dir}: one JSON line per request (id, index, ok, status, attempts, ms, json), and each act's report (*.report.html: open it in a browser).\n` +
          `Next: serve the mock yourself with 'volley mock --rate ${flags.rate}' (or '--profile openai'), and try 'volley run --help'.\n`,
      )
    })
}

/** Act one: a plain API with a request quota volley is not told, and faults it retries past. */
async function actOne(
  context: CommandContext,
  dir: string,
  { count, rate, latency }: { count: number; rate: ResolvedRate; latency: number },
): Promise<number> {
  const input = join(dir, 'input.jsonl')
  writeFileSync(input, itemsInput(count))
  const min = Math.min(10, latency)
  await using server = await startMockServer({
    rate: { limit: rate.limit, interval: rate.interval },
    latency: { min, max: latency },
    // Faults volley retries past; no `hang` (it would only show the timeout) and no 4xx (no retry helps).
    faults: { 500: 0.02, 503: 0.02, reset: 0.01, malformed: 0.01 },
    seed: 7,
    recordArrivals: true,
  })
  context.io.stderr.write(
    [
      `volley demo, act 1: a mock API at ${server.url} with a ${rateText(rate)} quota, ${min}-${latency}ms latency and 6% faults (500, 503, resets, broken JSON)`,
      `volley demo: ${count} requests in ${input} (GET /items/:id, POST /anything with JSON, [url, params] lines)`,
      `volley demo: volley does not know the quota: it learns it from the RateLimit headers, and retries the faults`,
      '',
    ].join('\n'),
  )
  const out = join(dir, 'results.jsonl')
  const code = await runVolley(context, [
    input,
    '--base-url',
    server.url,
    '--out',
    out,
    '--concurrency',
    '16',
    '--retries',
    '5',
    '--report',
  ])
  const stats = server.stats()
  context.io.stderr.write(
    `volley demo: the mock API counted ${stats.requests} requests (retries included), ${stats.rateLimited} refused (429)${quotaUsed(server.arrivals().admitted, rate)}\n`,
  )
  return code
}

/**
 * ': 38.5/s admitted after the first window, 96% of the quota': the quota as the server saw it used
 * once volley had learned it (the summary's rate counts results, not the retries that used quota too).
 */
function quotaUsed(admitted: readonly number[], rate: ResolvedRate): string {
  const from = admitted[0]! + rate.interval
  const after = admitted.filter((t) => t >= from)
  // Too short a run for a whole quota after the first window: nothing to say.
  if (after.length <= rate.limit) return ''
  const perSecond = ((after.length - 1) * 1000) / (after.at(-1)! - after[0]!)
  const share = quotaUse(admitted, rate.limit, rate.interval, from)
  return `; after the first window ${perSecond.toFixed(1)}/s admitted, ${(share * 100).toFixed(1)}% of the quota`
}

/** '40/s', '600/min' as a person writes them; other intervals as formatRate does. */
function rateText(rate: ResolvedRate): string {
  const unit = rate.unit === undefined ? '' : ` ${rate.unit}`
  if (rate.interval === 1000) return `${rate.limit}${unit}/s`
  if (rate.interval === 60_000) return `${rate.limit}${unit}/min`
  return formatRate(rate)
}

/**
 * Act two: an LLM API in OpenAI's dialect that limits tokens as well as requests. Each line says
 * what it costs (its `cost`), and volley learns the budget from the headers.
 */
async function actTwo(
  context: CommandContext,
  dir: string,
  { chats, tokens }: { chats: number; tokens: ResolvedRate },
): Promise<number> {
  const input = join(dir, 'chats.jsonl')
  const { text, estimated } = chatsInput(chats)
  writeFileSync(input, text)
  await using server = await startMockServer({
    profile: {
      name: 'openai',
      requests: CHAT_REQUESTS,
      tokens: { limit: tokens.limit, interval: tokens.interval },
    },
    latency: { min: 100, max: 400 },
    seed: 7,
    recordArrivals: true,
  })
  context.io.stderr.write(
    [
      '',
      `volley demo, act 2: an LLM API at ${server.url} in OpenAI's dialect, limiting ${CHAT_REQUESTS.replace('/', ' requests/')} and ${rateText({ ...tokens, unit: 'tokens' })}: a call costs its max_tokens plus a quarter of its prompt's characters`,
      `volley demo: ${chats} chat completions in ${input} (max_tokens 40-400, prompts of 40-1200 characters; ${estimated} tokens estimated in all)`,
      `volley demo: each line says what it costs ("cost": { "tokens": max_tokens + prompt characters / 4 }; --cost-field takes it from a field instead)`,
      `volley demo: volley is not told the budget: it learns it from the x-ratelimit-*-tokens headers`,
      '',
    ].join('\n'),
  )
  const args = [
    input,
    '--base-url',
    server.url,
    '--out',
    join(dir, 'chats.results.jsonl'),
    '--concurrency',
    '8',
    '--retries',
    '5',
    '--report',
  ]
  const code = await runVolley(context, args)
  const stats = server.stats()
  const { admitted } = server.arrivals()
  const seconds = admitted.length > 1 ? (admitted.at(-1)! - admitted[0]!) / 1000 : 0
  // As the arrival tests judge a budget's use: what was charged, over the time from the first call
  // admitted to the last plus the one window's worth that is there at the start.
  const share = stats.tokens.charged / (tokens.limit * ((seconds * 1000) / tokens.interval + 1))
  context.io.stderr.write(
    `volley demo: the mock API counted ${stats.requests} calls, ${stats.rateLimited} refused (429); ${stats.tokens.charged} tokens charged up front (max_tokens + prompt/4, settled to ${stats.tokens.used} used) in ${seconds.toFixed(1)} s from the first call admitted to the last: ${(share * 100).toFixed(0)}% of the budget\n`,
  )
  return code
}

/** `volley run` itself, with the flags a user would type; resolves with its exit code. */
async function runVolley(context: CommandContext, args: string[]): Promise<number> {
  const run = { ...context, argv: ['run', ...args, '--overwrite'], exitCode: 0 }
  await runCommand(run)
    .exitOverride()
    .parseAsync([...args, '--overwrite'], { from: 'user' })
  return run.exitCode
}
