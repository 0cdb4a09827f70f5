import type { Io } from './io.js'

/** What a command's action gets besides its flags: the io, the raw argv (for resume hints), and where to put its exit code. */
export interface CommandContext {
  io: Io
  argv: readonly string[]
  exitCode: number
}

export const collect = (value: string, previous: string[]): string[] => [...previous, value]
