import { Command } from 'commander'
import { MIN_JOB_TTL_MS, MIN_JOB_TTL_REASON } from '../../redis/job/ttl.js'
import { duration } from '../flags.js'
import { UsageError } from '../usage.js'
import type { CommandContext } from '../context.js'
import { queuedLine } from '../distributed/queued-line.js'
import { openInput } from '../input/open.js'
import { carriesSecrets } from '../requests.js'
import { type InputFlags, resolveInputFlags, withInputFlags } from './input-flags.js'
import { type JobFlags, resolveJobFlags, withJobFlags } from './job-flags.js'
import { requestMethod } from './request-flags.js'

interface SubmitFlags extends InputFlags, JobFlags {
  method: string
  ttl: string
  quiet?: boolean
}

const EXAMPLES = `
Examples:
  $ volley submit users.jsonl --job users-2026-12 --redis redis://queue:6379
  $ volley work --job users-2026-12 --redis redis://queue:6379 --base-url https://api.example.com --rate 50/s   # on each machine
  $ volley status --job users-2026-12 --redis redis://queue:6379
  $ volley collect --job users-2026-12 --redis redis://queue:6379 --out users.results.jsonl

Submitting the same input again queues nothing (an interrupted submit goes on where it stopped);
another input under the same job name is refused.`

export function submitCommand(context: CommandContext): Command {
  const command = new Command('submit')
    .description('Queue a file of requests as a job in Redis, for `volley work` on any number of machines')
    .argument('<input>', "the input file, or '-' for stdin")
  return withInputFlags(withJobFlags(command))
    .option('-m, --method <method>', "method of CSV records (other lines take the workers' --method)", 'GET')
    .option(
      '--ttl <duration>',
      "how long the job's keys (its results too) stay in Redis once every line has a result (at least 1m); left incomplete, this long and at least 7d after a worker last touched it",
      '7d',
    )
    .option('-q, --quiet', 'say nothing when it went well')
    .addHelpText('after', EXAMPLES)
    .action(async (input: string, flags: SubmitFlags) => {
      const { io } = context
      const location = resolveJobFlags(flags, io)
      const inputOptions = resolveInputFlags(input, flags, requestMethod(flags.method), io)
      const ttl = duration('--ttl', flags.ttl)
      if (ttl < MIN_JOB_TTL_MS)
        throw new UsageError(`--ttl must be at least 1m (${MIN_JOB_TTL_REASON}), got ${flags.ttl}`)
      const { submitJob } = await import('../../redis/job/submit.js')
      // Lines carrying their own secrets are queued as they are: Redis holds them. Said, once.
      let secretLines = 0
      let firstSecret = 0
      const lines = (async function* () {
        for await (const entry of openInput(inputOptions, io)) {
          if (entry.spec !== undefined && carriesSecrets(entry.spec)) {
            secretLines++
            firstSecret ||= entry.line
          }
          yield queuedLine(entry)
        }
      })()
      const outcome = await submitJob({ ...location, lines, ttl })
      if (secretLines > 0)
        io.stderr.write(
          `volley: ${secretLines} line(s) of the input carry a secret header or parameter of their own (line ${firstSecret} first), and Redis holds them as given: give secrets to the workers instead (-H, --header-env), which never write them to Redis\n`,
        )
      if (flags.quiet) return
      const { job } = location
      io.stderr.write(
        outcome.already
          ? `volley: job ${job} already holds this input (${outcome.total} lines): nothing queued\n`
          : `volley: job ${job}: queued ${outcome.queued} line(s)${outcome.resumed > 0 ? ` after the ${outcome.resumed} an earlier submit had queued` : ''}, ${outcome.total} in all. Start workers with: volley work --job ${job} ...\n`,
      )
    })
}
