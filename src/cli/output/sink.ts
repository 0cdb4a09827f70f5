import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { type OutStream, writeOut } from '../io.js'
import { UsageError } from '../usage.js'

/** Where result lines go. `write` takes one whole line (newline included). */
export interface Sink {
  /** Resolves once the line is written: for a file, with the others of its turn; on a full pipe, after 'drain'. */
  write(line: string): Promise<void> | undefined
  /** Flushes to disk (fsync). */
  sync(): void
  /** Flushes to disk (fsync) and closes. */
  close(): void
}

/** Most buffered characters before a write is made at once, without waiting for the turn to end. */
const MAX_PENDING = 1 << 20

/**
 * An output file written in groups of whole lines: the lines of one event-loop turn go out in one
 * write() at its end (or at once past MAX_PENDING), instead of a syscall per line, the run's largest
 * CPU cost. A write takes whole lines, so a SIGKILL never leaves half a line but the torn tail of a
 * full disk's short write (resume truncates it), and never interleaves lines. What a kill can lose is
 * the lines of the turn not yet written: their requests ran, and resume sends them again, as it
 * sends the ones in flight. No fsync per write (it would cap a run at the disk's sync rate): the
 * kernel keeps what was written when the process dies; only a machine crash can lose the tail, and
 * resume repairs that too. `sync()` and `close()` write what is pending first.
 */
export function fileSink(path: string, append: boolean): Sink {
  const fd = openSync(path, append ? 'a' : 'w')
  let pending: string[] = []
  let pendingLength = 0
  // Settles when the pending lines are written: a line counts as done once it is in the file.
  let group: PromiseWithSettlers | undefined
  let closed = false
  const flush = () => {
    const written = group
    if (!written) return
    group = undefined
    const text = pending.length === 1 ? pending[0]! : pending.join('')
    pending = []
    pendingLength = 0
    try {
      writeWhole(fd, text)
    } catch (error) {
      // Told to every writer of the group, each awaiting its line.
      written.reject(error)
      return
    }
    written.resolve()
  }
  return {
    write(line) {
      pending.push(line)
      pendingLength += line.length
      if (!group) {
        group = settlers()
        setImmediate(flush)
      }
      const written = group.promise
      if (pendingLength >= MAX_PENDING) flush()
      return written
    },
    sync() {
      flush()
      sync(fd)
    },
    close() {
      if (closed) return
      closed = true
      try {
        flush()
        sync(fd)
      } finally {
        closeSync(fd)
      }
    },
  }
}

interface PromiseWithSettlers {
  promise: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

function settlers(): PromiseWithSettlers {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}

/** Writes all of `text`: a regular file takes it in one call; a full disk's short write is finished here. */
function writeWhole(fd: number, text: string): void {
  const written = writeSync(fd, text)
  if (written < Buffer.byteLength(text)) {
    const bytes = Buffer.from(text)
    for (let at = written; at < bytes.length;) at += writeSync(fd, bytes, at)
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
