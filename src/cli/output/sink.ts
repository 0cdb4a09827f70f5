import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { type OutStream, writeOut } from '../io.js'
import { UsageError } from '../usage.js'

/** Where result lines go. `write` takes one whole line (newline included). */
export interface Sink {
  /** Resolves at once for a file; waits for 'drain' on a full pipe. */
  write(line: string): Promise<void> | undefined
  /** Flushes to disk (fsync). */
  sync(): void
  /** Flushes to disk (fsync) and closes. */
  close(): void
}

/**
 * An output file written with one write() call per line, synchronously: a line is in the kernel
 * before the next result is handled, so a SIGKILL loses at most the line being written (which resume
 * truncates away) and never interleaves two lines. No fsync per line (it would cap a run at the
 * disk's sync rate): the kernel keeps what was written when the process dies; only a machine crash
 * can lose the tail, and resume repairs that too. `close()` fsyncs once at the end.
 */
export function fileSink(path: string, append: boolean): Sink {
  const fd = openSync(path, append ? 'a' : 'w')
  let closed = false
  return {
    write(line) {
      const written = writeSync(fd, line)
      // A regular file takes the whole line in one call; a full disk's short write is finished here.
      if (written < Buffer.byteLength(line)) {
        const bytes = Buffer.from(line)
        for (let at = written; at < bytes.length;) at += writeSync(fd, bytes, at)
      }
      return undefined
    },
    sync: () => sync(fd),
    close() {
      if (closed) return
      closed = true
      try {
        sync(fd)
      } finally {
        closeSync(fd)
      }
    },
  }
}

function sync(fd: number): void {
  try {
    fsyncSync(fd)
  } catch (error) {
    // A pipe or a device (--out /dev/stdout) cannot be synced, and has nothing to put on a disk.
    if ((error as { code?: unknown }).code !== 'EINVAL') throw error
  }
}

/** `--out -`: result lines to stdout, with backpressure. */
export function streamSink(stream: OutStream): Sink {
  return { write: (line) => writeOut(stream, line), sync() {}, close() {} }
}

/** The usage error for an --out that cannot be opened for writing (a missing folder, no permission). */
export function unwritableOutput(out: string, error: unknown): UsageError {
  return new UsageError(`--out ${out}: cannot open it for writing: ${(error as Error).message}`)
}
