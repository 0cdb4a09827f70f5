import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Command } from 'commander'
import { startMockServer } from '../../mock/server.js'
import type { CommandContext } from '../context.js'
import { duration, rates, wholeNumber } from '../flags.js'
import { runCommand } from './run.js'

interface DemoFlags {
  count: string
  rate: string
  latency: string
  dir?: string
}

const EXAMPLES = `
Examples:
  $ volley demo                       # ~20 s: 800 requests against a 40/s mock API
  $ volley demo --count 200 --rate 100/s --dir ./.volley-demo`

export function demoCommand(context: CommandContext): Command {
  return new Command('demo')
    .description(
      'Run a real job against a built-in mock API (rate limit, latency, faults): no network, no setup',
    )
    .option('-n, --count <n>', 'requests in the demo input', '800')
    .option('-r, --rate <rate>', "the mock API's quota (volley learns it from the RateLimit headers)", '40/s')
    .option('--latency <duration>', "the mock's largest latency (each request draws 10ms up to it)", '60ms')
    .option('--dir <dir>', 'where the input and results go (default: a new temporary directory)')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: DemoFlags) => {
      const { io } = context
      const count = wholeNumber('--count', flags.count, 1)
      const [rate] = rates('--rate', [flags.rate])
      const latency = duration('--latency', flags.latency, { positive: false })
      const dir = flags.dir ? resolve(io.cwd, flags.dir) : mkdtempSync(join(tmpdir(), 'volley-demo-'))
      mkdirSync(dir, { recursive: true })
      const input = join(dir, 'input.jsonl')
      const out = join(dir, 'results.jsonl')
      writeFileSync(input, demoInput(count))

      await using server = await startMockServer({
        rate: { limit: rate!.limit, interval: rate!.interval },
        latency: { min: Math.min(10, latency), max: latency },
        // Faults volley retries past; no `hang` (it would only show the timeout) and no 4xx (no retry helps).
        faults: { 500: 0.02, 503: 0.02, reset: 0.01, malformed: 0.01 },
        seed: 7,
      })
      io.stderr.write(
        [
          `volley demo: a mock API at ${server.url} with a ${flags.rate} quota, ${Math.min(10, latency)}-${latency}ms latency and 6% faults (500, 503, resets, broken JSON)`,
          `volley demo: ${count} requests in ${input} (GET /items/:id, POST /anything with JSON, [url, params] lines)`,
          `volley demo: volley does not know the quota: it learns it from the RateLimit headers, and retries the faults`,
          '',
        ].join('\n'),
      )
      // The demo is `volley run` itself, with the flags a user would type.
      const args = [
        input,
        '--base-url',
        server.url,
        '--out',
        out,
        '--overwrite',
        '--concurrency',
        '16',
        '--retries',
        '5',
      ]
      const run = { ...context, argv: ['run', ...args] }
      await runCommand(run).exitOverride().parseAsync(args, { from: 'user' })
      context.exitCode = run.exitCode
      io.stderr.write(
        `\nvolley demo: results are in ${out}: one JSON line per request (id, index, ok, status, attempts, ms, json).\n` +
          `Next: serve the mock yourself with 'volley mock --rate ${flags.rate}' and try 'volley run --help'.\n`,
      )
    })
}

/** Mostly GETs by id, some POSTs (each gets an Idempotency-Key) and tuple lines: the three spec forms. */
function demoInput(count: number): string {
  const lines: string[] = []
  for (let i = 1; i <= count; i++) {
    if (i % 10 === 0)
      lines.push(
        JSON.stringify({ url: '/anything/orders', json: { order: i, qty: i % 7 }, id: `order-${i}` }),
      )
    else if (i % 10 === 5)
      lines.push(JSON.stringify(['/anything/search', { q: `item ${i}`, page: 1 + (i % 3) }]))
    else lines.push(JSON.stringify({ url: `/items/${i}`, id: `item-${i}` }))
  }
  return `${lines.join('\n')}\n`
}
