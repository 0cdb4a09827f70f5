import { resolve } from 'node:path'
import { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { writeOut } from '../io.js'
import { jobLine } from '../output/resume.js'
import { fileSink, streamSink, unwritableOutput } from '../output/sink.js'
import { EXIT } from '../usage.js'
import { type JobFlags, resolveJobFlags, withJobFlags } from './job-flags.js'

interface CollectFlags extends JobFlags {
  out?: string
  quiet?: boolean
}

export function collectCommand(context: CommandContext): Command {
  return withJobFlags(
    new Command('collect').description(
      "Write a distributed job's results, each line's once and in input order, in `volley run`'s format",
    ),
  )
    .option('-o, --out <file>', "results file, '-' for stdout (default: <job>.results.jsonl)")
    .option('-q, --quiet', 'say nothing when the job is complete')
    .action(async (flags: CollectFlags) => {
      const { io } = context
      const location = resolveJobFlags(flags, io)
      const out = flags.out === '-' ? '-' : resolve(io.cwd, flags.out ?? `${location.job}.results.jsonl`)
      const { collectJob } = await import('../../redis/job/collect.js')
      let extent = { total: null as number | null, queued: 0, done: 0 }
      const lines = collectJob({ ...location, onStart: (job) => (extent = job) })
      // Nothing is created before the job is found: a typo in --job leaves no empty file.
      const first = await lines.next()
      let sink
      try {
        sink = out === '-' ? streamSink(io.stdout) : fileSink(out, false)
      } catch (error) {
        throw unwritableOutput(out, error)
      }
      let written = 0
      try {
        // A thousand lines per write: a million-line job is a thousand writes, not a million.
        let chunk = jobLine(location.job)
        const flush = async () => {
          await sink.write(chunk)
          chunk = ''
        }
        if (!first.done) {
          chunk += `${first.value.result}\n`
          written++
          for await (const { result } of lines) {
            chunk += `${result}\n`
            if (++written % 1000 === 0) await flush()
          }
        }
        await flush()
        sink.flush()
      } finally {
        sink.close()
      }
      const where = out === '-' ? 'stdout' : out
      const complete = extent.total !== null && written >= extent.total
      if (!complete) {
        const of =
          extent.total === null ? `${extent.queued} queued so far (submit has not ended)` : `${extent.total}`
        void writeOut(
          io.stderr,
          `volley: job ${location.job} is not done: wrote the ${written} result(s) recorded so far, of ${of}, to ${where}; collect again once it is\n`,
        )
        context.exitCode = EXIT.failed
      } else if (!flags.quiet)
        void writeOut(io.stderr, `volley: wrote the ${written} results of job ${location.job} to ${where}\n`)
    })
}
