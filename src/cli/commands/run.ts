import { existsSync } from 'node:fs'
import { Command } from 'commander'
import { parseRates } from '../../limit/units.js'
import type { CommandContext } from '../context.js'
import { redactArgv, shellQuote } from '../flags.js'
import type { Io } from '../io.js'
import { type JobOutcome, runJob } from '../job.js'
import { buildReport } from '../report/html/build.js'
import { LiveRecorder } from '../report/html/live.js'
import { plainReporter, type Reporter, silentReporter, ttyReporter } from '../report/reporter.js'
import { formatSummary, summarize } from '../report/summary.js'
import { EXIT, UsageError } from '../usage.js'
import { withInputFlags } from './input-flags.js'
import { withRequestFlags } from './request-flags.js'
import { type ResolvedRun, type RunFlags, resolveRunFlags } from './run-options.js'

const EXAMPLES = `
Input: one request per line, as JSON (a URL string, a [url, params] tuple, or an object
{ url, method, params, headers, json, body, id, cost }) or a plain URL; or CSV with a url column.

Examples:
  $ volley run urls.txt --out results.jsonl
  $ volley run users.jsonl --base-url https://api.example.com/v1 --rate 10/s --concurrency 8 \\
      --header-env 'Authorization: Bearer $API_TOKEN'
  $ volley run users.jsonl --base-url https://api.example.com/v1 --resume     # after a crash or Ctrl-C
  $ volley run people.csv --base-url https://api.example.com --id-column user_id --params name,city
  $ cat specs.jsonl | volley run - --base-url https://api.example.com --out - | jq .status
  $ volley run chats.jsonl --base-url https://api.openai.com --cost-field json.max_tokens \\
      --header-env 'Authorization: Bearer $OPENAI_API_KEY'   # token budget learned, each call's cost its max_tokens
  $ volley run repos.jsonl --base-url https://api.github.com --paginate link --out issues.jsonl  # every page of each list
  $ volley run channels.jsonl --paginate cursor:response_metadata.next_cursor:cursor --items members
  $ volley run big.jsonl --shard 1/4 --out part1.jsonl      # one of four machines
  $ volley run big.jsonl --shard 2/4 --out part2.jsonl --rate 30/s --redis redis://cache:6379 --key acme-api

Exit codes: 0 all ok, 1 some failed (or were not run), 2 bad usage or input, 130 interrupted.`

export function runCommand(context: CommandContext): Command {
  const command = new Command('run')
    .description(
      'Run a file of requests (JSONL, plain URLs or CSV), write every result as a JSON line, resume after a crash',
    )
    .argument('<input>', "the input file, or '-' for stdin")
  return withInputFlags(withRequestFlags(command))
    .option(
      '-o, --out <file>',
      "results file, '-' for stdout (default: <name>.results.jsonl beside the input <name>.<ext>; <name>.shard-i-of-n.results.jsonl with --shard)",
    )
    .option('--resume', 'skip the inputs already in --out and append the rest')
    .option('--overwrite', 'replace an existing --out instead of refusing')
    .option(
      '--fail-fast',
      'stop at the first failed request (in-flight ones are abandoned; --resume finishes)',
    )
    .option('--shard <i/n>', 'run only lines i, i+n, i+2n... (1-based): split a job across processes')
    .option(
      '--paginate <shape>',
      "follow each line's pages: link, cursor:<from>:<to>, stripe[:<items>[:<id>[:<param>]]], offset:<limit>[:<param>[:<total>]], page[:<param>[:<total>[:<first>]]]; one output line per page",
    )
    .option(
      '--items <path>',
      "with --paginate: one output line per item, at this dotted path in each page's JSON body",
    )
    .option(
      '--max-pages <n>',
      'with --paginate: pages a list may have; one more ends it with a MAX_PAGES error',
    )
    .option(
      '--run-id <id>',
      "the job's id in the Idempotency-Keys of POSTs: the same id gives the same keys (default: new for each new job, kept by --resume)",
    )
    .option(
      '--redis [url]',
      'share --rate and --concurrency with every process using the same --key, through Redis (default: $REDIS_URL, else redis://127.0.0.1:6379)',
    )
    .option('--key <name>', 'with --redis: the name of the shared quota')
    .option(
      '--report [file]',
      'at the end (also after a stop), write an HTML report of the run: starts against the limit, latency, statuses and errors over time (default: <results name>.report.html beside --out)',
    )
    .option('-q, --quiet', 'no progress, no summary, and not where the report went')
    .option('--json', 'the summary as one JSON object (on stdout, or stderr with --out -)')
    .option(
      '--progress-interval <duration>',
      'how often a progress line is printed when stderr is not a terminal',
      '3s',
    )
    .addHelpText('after', EXAMPLES)
    .action(async (input: string, flags: RunFlags) => {
      const options = resolveRunFlags(input, flags, context.io)
      context.exitCode = await runResolved(options, context.io, resumeHint(context.argv))
    })
}

/** Runs a resolved job with the reporter its flags ask for, then prints the summary. */
async function runResolved(options: ResolvedRun, io: Io, hint: string): Promise<number> {
  const reporter = pickReporter(options, io)
  const live = options.report === undefined ? undefined : new LiveRecorder(() => io.clock.wallTime())
  const outcome = await runJob({ ...options, reporter, live }, io)
  printSummary(options, outcome, io, hint, reporter)
  if (live === undefined || options.report === undefined || !existsSync(options.out)) return outcome.exitCode
  try {
    await buildReport(options.out, options.report, {
      secrets: options.requests.secrets,
      rates: parseRates(options.client.rate, '--rate'),
      live: live.events,
      now: io.clock.wallTime(),
    })
  } catch (error) {
    // The run is done and its results are written: a report that cannot be is a failure, not a usage error.
    if (!(error instanceof UsageError)) throw error
    reporter.note(`volley: ${error.message}`)
    return outcome.exitCode === EXIT.ok ? EXIT.failed : outcome.exitCode
  }
  if (!options.quiet) io.stderr.write(`volley: the report is in ${options.report}\n`)
  return outcome.exitCode
}

function pickReporter(options: ResolvedRun, io: Io): Reporter {
  if (options.quiet || options.json) return silentReporter(io.stderr)
  if (io.stderr.isTTY && !io.env.CI) return ttyReporter(io.stderr, io.clock)
  return plainReporter(io.stderr, options.progressIntervalMs, io.clock)
}

function printSummary(
  options: ResolvedRun,
  outcome: JobOutcome,
  io: Io,
  hint: string,
  reporter: Reporter,
): void {
  const summary = summarize(outcome.stats, {
    exitCode: outcome.exitCode,
    out: options.out,
    interrupted: outcome.interrupted,
    stopped: outcome.stopped,
  })
  if (options.json) (options.out === '-' ? io.stderr : io.stdout).write(`${JSON.stringify(summary)}\n`)
  else if (!options.quiet) io.stderr.write(`${formatSummary(summary)}\n`)
  if (outcome.stopped !== undefined) {
    const what = `volley: stopped before the end of the input (${summary.notRun} ${summary.pages ? 'list(s) not ended' : 'request(s) not run, not written'})`
    reporter.note(
      options.out === '-'
        ? `${what}; with --out - there is nothing to resume: write to a file to be able to resume`
        : `${what}. To finish, run:\n  ${hint}`,
    )
  }
}

function resumeHint(argv: readonly string[]): string {
  const args = redactArgv(argv).filter((arg) => arg !== '--overwrite')
  if (!args.includes('--resume')) args.push('--resume')
  return ['volley', ...args].map(shellQuote).join(' ')
}
