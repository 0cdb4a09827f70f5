#!/usr/bin/env node
/** The only file that touches `process`: it builds the io, runs the command line and exits. */
import { fstatSync } from 'node:fs'
import { systemClock } from '../limit/clock.js'
import type { Io } from './io.js'
import { run } from './main.js'
import { isZombie } from './output/lock.js'

const io: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  onSignal(signal, handler) {
    process.on(signal, handler)
    return () => process.off(signal, handler)
  },
  clock: systemClock,
  pid: process.pid,
  processExists(pid) {
    try {
      process.kill(pid, 0)
      // A zombie has exited: signal 0 reaches it until its parent reaps it.
      return !isZombie(pid)
    } catch (error) {
      // EPERM: it exists, under another user.
      return (error as NodeJS.ErrnoException).code === 'EPERM' && !isZombie(pid)
    }
  },
  stdinFile() {
    try {
      return fstatSync(0)
    } catch {
      // No stdin at all (fd 0 closed): nothing it could overwrite.
      return undefined
    }
  },
}

// `volley run ... --out - | head` closes the pipe early: the reader's choice, not a crash, but the
// job did not finish, so not exit 0 either: 141 as a process killed by SIGPIPE (what `set -o
// pipefail` expects of the writer).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error
  process.stderr.write('volley: the output pipe was closed by its reader: stopped before the end\n')
  process.exit(141)
})

try {
  const code = await run(process.argv.slice(2), io)
  process.exitCode = code
  // A pending stdin read (an interrupted `volley run -`) would keep the process alive: end it.
  setTimeout(() => process.exit(code), 500).unref()
} catch (error) {
  process.stderr.write(`volley: internal error: ${(error as Error)?.stack ?? error}\n`)
  process.exit(1)
}
