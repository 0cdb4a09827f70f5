import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { Command } from 'commander'
import { type CommandContext, collect } from '../context.js'
import { rates } from '../flags.js'
import { buildReport, reportPath } from '../report/html/build.js'
import { UsageError } from '../usage.js'

const EXAMPLES = `
Examples:
  $ volley report users.results.jsonl                  # writes users.results.report.html beside it
  $ volley report users.results.jsonl -o /tmp/run.html
  $ volley report users.results.jsonl --rate 10/s       # draw 10/s as the limit (default: the run's --rate)

The page is one file that loads nothing from the network: open it in a browser, attach it, archive it.`

export function reportCommand(context: CommandContext): Command {
  return new Command('report')
    .description(
      'Write the HTML report of a run from its results file: starts against the limit, in flight, latency, statuses and errors over time',
    )
    .argument('<results>', 'a results file written by volley run (--out)')
    .option('-o, --out <file>', 'the page to write (default: <name>.report.html beside the results file)')
    .option(
      '-r, --rate <rate>',
      "the limit to draw against the starts per second: '10/s', '600/min' (repeatable; by default the run's --rate, which the results file's first line keeps)",
      collect,
      [],
    )
    .addHelpText('after', EXAMPLES)
    .action(async (results: string, flags: { out?: string; rate: string[] }) => {
      const { io } = context
      const path = resolve(io.cwd, results)
      if (!existsSync(path)) throw new UsageError(`the results file ${results} does not exist`)
      if (!statSync(path).isFile()) throw new UsageError(`the results file ${results} is not a file`)
      const out = flags.out === undefined ? reportPath(path) : resolve(io.cwd, flags.out)
      if (out === path)
        throw new UsageError(`--out ${flags.out} is the results file: the report would overwrite it`)
      const given = rates('--rate', flags.rate)
      const outcome = await buildReport(path, out, { rates: given, now: io.clock.wallTime() })
      io.stdout.write(`volley: the report of ${outcome.results} result(s) is in ${out}\n`)
    })
}
