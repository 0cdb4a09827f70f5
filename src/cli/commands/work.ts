import { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { runWorker } from '../distributed/worker.js'
import { duration, wholeNumber } from '../flags.js'
import { UsageError } from '../usage.js'
import { type JobFlags, resolveJobFlags, withJobFlags } from './job-flags.js'
import { type RequestFlags, resolveRequestFlags, withRequestFlags } from './request-flags.js'

interface WorkFlags extends RequestFlags, JobFlags {
  key?: string
  lease: string
  poisonAfter: string
  progressInterval: string
  quiet?: boolean
}

const EXAMPLES = `
Examples:
  $ volley work --job users-2026-12 --redis redis://queue:6379 --base-url https://api.example.com \\
      --header-env 'Authorization: Bearer $API_TOKEN' --rate 50/s --concurrency 16

Every worker on a job shares --rate and --concurrency through the job's Redis (the limit's key is
the job's name unless --key names another). The -H and --header-env headers stay on this machine:
they are never written to Redis (secrets inside the input's lines are, as submitted). A 401 stops
the worker and gives its line back. A worker exits 0 once every line of the job has a result,
whoever ran it.`

export function workCommand(context: CommandContext): Command {
  const command = new Command('work').description(
    'Join a job queued by `volley submit`: claim its lines, run them under the shared limit, record each result; exit when the whole job is done',
  )
  return withRequestFlags(withJobFlags(command))
    .option('--key <name>', "the shared limit's name in Redis (default: the job's name)")
    .option(
      '--lease <duration>',
      'how long this worker may be silent before others take over its lines (renewed while it works, however slow its requests)',
      '30s',
    )
    .option(
      '--poison-after <n>',
      'a line whose worker died running it alone this many times is not run again: its result is a POISON_LINE error',
      '2',
    )
    .option('--progress-interval <duration>', 'how often a progress line is printed', '3s')
    .option('-q, --quiet', 'no progress and no summary')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: WorkFlags) => {
      const { io } = context
      const location = resolveJobFlags(flags, io)
      const lease = duration('--lease', flags.lease)
      if (lease < 300) throw new UsageError(`--lease must be at least 300ms, got ${flags.lease}`)
      const sent = resolveRequestFlags(flags, io)
      context.exitCode = await runWorker(
        {
          location,
          key: flags.key ?? location.job,
          lease,
          poisonAfter: wholeNumber('--poison-after', flags.poisonAfter, 1),
          ...sent,
          progressIntervalMs: duration('--progress-interval', flags.progressInterval),
          quiet: flags.quiet === true,
        },
        io,
      )
    })
}
