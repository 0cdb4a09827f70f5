import type { Stats } from 'node:fs'
import { Readable } from 'node:stream'
import type { Io, OutStream, SignalName } from '../../src/cli/io.js'
import { type Clock, systemClock } from '../../src/limit/clock.js'

export interface FakeStream extends OutStream {
  text: string
}

export interface FakeIo extends Io {
  stdout: FakeStream
  stderr: FakeStream
  /** Delivers a signal to the handlers the command subscribed. */
  signal(name: SignalName): void
}

function stream(): FakeStream {
  return {
    text: '',
    write(chunk) {
      this.text += chunk
      return true
    },
    once() {
      return undefined
    },
    isTTY: false,
  }
}

/**
 * An io for `run(argv, io)` without spawning: captured output, given env and stdin, signals on
 * demand, the system clock unless given one. No other process exists (holds an output's lock).
 */
export function fakeIo(
  options: {
    env?: Record<string, string>
    stdin?: string
    cwd?: string
    clock?: Clock
    /** What stdin is redirected from (bin.ts: fstat of fd 0); none by default. */
    stdinFile?: Stats
  } = {},
): FakeIo {
  const handlers = new Map<SignalName, Set<() => void>>()
  return {
    stdout: stream(),
    stderr: stream(),
    stdin: Readable.from([options.stdin ?? '']),
    env: { CI: 'true', ...options.env },
    cwd: options.cwd ?? process.cwd(),
    onSignal(name, handler) {
      const set = handlers.get(name) ?? new Set()
      handlers.set(name, set.add(handler))
      return () => set.delete(handler)
    },
    signal(name) {
      for (const handler of handlers.get(name) ?? []) handler()
    },
    clock: options.clock ?? systemClock,
    pid: process.pid,
    processExists: () => false,
    stdinFile: () => options.stdinFile,
  }
}
