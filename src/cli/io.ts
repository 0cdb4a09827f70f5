import type { Stats } from 'node:fs'
import type { Clock } from '../limit/clock.js'

/**
 * Everything a command may touch of the outside world, passed in: only bin.ts builds it from
 * `process`, so `run(argv, io)` is testable without spawning (citty's runCommand / runMain split).
 */
export interface OutStream {
  write(chunk: string): boolean
  once(event: 'drain', listener: () => void): unknown
  isTTY?: boolean
  columns?: number
}

export type SignalName = 'SIGINT' | 'SIGTERM'

export interface Io {
  stdout: OutStream
  stderr: OutStream
  /** Read only when the input is `-`. */
  stdin: NodeJS.ReadableStream
  env: Readonly<Record<string, string | undefined>>
  /** Relative paths resolve against it. */
  cwd: string
  /** Subscribes to a signal; returns the function that unsubscribes. */
  onSignal(signal: SignalName, handler: () => void): () => void
  /** Time and timers: the grace period, progress lines, elapsed time and the client's limits. */
  clock: Clock
  /** This process's id: what an output's lock file holds. */
  pid: number
  /** Whether a process with this id exists: is an output's lock still held. */
  processExists(pid: number): boolean
  /** What stdin is (fstat of fd 0; undefined if closed): `run - --out x < x` must not truncate x. */
  stdinFile(): Stats | undefined
}

/** Writes to a stream, waiting for 'drain' when it is full (so piping a million lines stays bounded). */
export function writeOut(stream: OutStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined
  return new Promise((resolve) => stream.once('drain', () => resolve()))
}
