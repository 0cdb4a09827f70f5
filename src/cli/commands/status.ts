import { Command } from 'commander'
import type { JobStatus } from '../../redis/job/status.js'
import type { CommandContext } from '../context.js'
import { formatMs } from '../report/format.js'
import { type JobFlags, resolveJobFlags, withJobFlags } from './job-flags.js'

interface StatusFlags extends JobFlags {
  json?: boolean
}

export function statusCommand(context: CommandContext): Command {
  return withJobFlags(
    new Command('status').description(
      'Where a distributed job stands: lines done, claimed, failed, and each worker',
    ),
  )
    .option('--json', 'as one JSON object')
    .action(async (flags: StatusFlags) => {
      const { jobStatus } = await import('../../redis/job/status.js')
      const status = await jobStatus(resolveJobFlags(flags, context.io))
      context.io.stdout.write(flags.json ? `${JSON.stringify(status)}\n` : formatStatus(status))
    })
}

const count = (n: number) => n.toLocaleString('en-US')

export function formatStatus(s: JobStatus): string {
  const lines: string[] = []
  const extent =
    s.total === null ? `submitting: ${count(s.queued)} line(s) queued so far` : `${count(s.total)} line(s)`
  lines.push(
    `job ${s.job}: ${s.state === 'complete' ? 'complete' : s.state === 'queued' ? 'running' : 'being submitted'}, ${extent}`,
  )
  const share = s.total ? ` (${((100 * s.done) / s.total).toFixed(1)}%)` : ''
  lines.push(
    `  done ${count(s.done)}${share}: ${count(s.ok)} ok, ${count(s.failed)} failed · claimed ${count(s.claimed)} · taken over ${count(s.takenOver)} · run twice ${count(s.duplicates)}`,
  )
  if (s.suspects > 0)
    lines.push(
      `  ${count(s.suspects)} line(s) held by workers that died: each runs alone, and one that ends its workers --poison-after times is recorded as POISON_LINE`,
    )
  if (s.state === 'complete')
    lines.push(`  its keys expire in ${formatMs(s.expiresInMs ?? 0)}: collect the results before then`)
  else {
    lines.push(
      `  ${s.rate.toFixed(1)} lines/s${s.remainingMs === null ? '' : ` · about ${formatMs(s.remainingMs)} left`}`,
    )
    if (s.expiresInMs !== null && !s.workers.some((w) => w.alive))
      lines.push(
        `  no worker is working: its keys, results too, expire in ${formatMs(s.expiresInMs)} unless one joins`,
      )
  }
  if (s.workers.length > 0) {
    lines.push('  workers:')
    for (const w of s.workers) {
      const state = w.alive ? 'working' : w.left ? 'left' : 'silent'
      lines.push(
        `    ${w.name}  ${state}, seen ${formatMs(w.lastSeenMs)} ago · done ${count(w.done)} · claimed ${count(w.claimed)} · ${w.rate.toFixed(1)} lines/s${w.duplicates > 0 ? ` · run twice ${count(w.duplicates)}` : ''}`,
      )
    }
  }
  return `${lines.join('\n')}\n`
}
