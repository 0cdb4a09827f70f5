import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { InvalidOptionError, JobError, StoreError } from '../errors.js'
import { collectCommand } from './commands/collect.js'
import { demoCommand } from './commands/demo.js'
import { mockCommand } from './commands/mock.js'
import { reportCommand } from './commands/report.js'
import { runCommand } from './commands/run.js'
import { statusCommand } from './commands/status.js'
import { submitCommand } from './commands/submit.js'
import { workCommand } from './commands/work.js'
import type { CommandContext } from './context.js'
import type { Io } from './io.js'
import { EXIT, UsageError } from './usage.js'

/**
 * The volley command line: parses `argv` (without 'node volley'), runs the command, and resolves
 * with its exit code. It never touches `process` (bin.ts does), so tests call it with a fake io.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const context: CommandContext = { io, argv, exitCode: EXIT.ok }
  const program = new Command('volley')
    .description('Make many API calls fast and politely: run a file of requests, resume after a crash.')
    .version(version(), '-v, --version')
    .addHelpText(
      'after',
      '\nStart with:\n  $ volley demo          # a real job against a built-in mock API, no network\n  $ volley run --help',
    )
  for (const command of [
    runCommand(context),
    submitCommand(context),
    workCommand(context),
    statusCommand(context),
    collectCommand(context),
    reportCommand(context),
    demoCommand(context),
    mockCommand(context),
  ])
    program.addCommand(command)
  program.hook('preAction', (_program, action) => refuseFlagsAsValues(action))
  for (const command of [program, ...program.commands]) {
    command.exitOverride().configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
  }
  try {
    await program.parseAsync(argv as string[], { from: 'user' })
    return context.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end parsing with an "error" too; commander has printed its message.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage
    }
    if (error instanceof UsageError || error instanceof InvalidOptionError) {
      io.stderr.write(`volley: ${error.message}\n`)
      return EXIT.usage
    }
    // A distributed job that is not there (or holds another input), or its Redis away: said, not a crash.
    if (error instanceof JobError || error instanceof StoreError) {
      io.stderr.write(`volley: ${error.message}\n`)
      return error.code === 'JOB_MISMATCH' ? EXIT.usage : EXIT.failed
    }
    throw error
  }
}

/**
 * commander takes the word after an option that needs a value as that value, whatever it is:
 * `--key --overwrite` would make the key "--overwrite" and drop the flag. A value that looks like a
 * flag is refused, naming the option (a value really starting with '-' cannot be meant here).
 */
function refuseFlagsAsValues(command: Command): void {
  for (const option of command.options) {
    if (!option.required && !option.optional) continue
    const flag = option.long ?? option.short
    for (const value of [command.getOptionValue(option.attributeName()) as unknown].flat()) {
      // Only the flag-like start is quoted: the rest might be a secret ('-H --X-Key: …').
      const taken = typeof value === 'string' ? /^--?[A-Za-z][\w-]*/.exec(value) : null
      if (taken) {
        throw new UsageError(
          `${flag} needs a value, got the flag ${taken[0]}: give the value right after ${flag}`,
        )
      }
    }
  }
}

function version(): string {
  // src/cli and dist/cli are both two levels below the package root.
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version
}
