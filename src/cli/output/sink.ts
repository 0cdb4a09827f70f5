import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { type OutStream, writeOut } from '../io.js'
import { UsageError } from '../usage.js'

/** Where result lines go. `write` takes one whole line (newline included). */
export interface Sink {
  /** Resolves at once for a file; waits for 'drain' on a full pipe. */
  write(line: string): Promise<void> | undefined
  /** Writes what is held and flushes it to disk (fsync). */
  sync(): void
  /** Flushes to disk (fsync) and closes. */
  close(): void
}

/** A group is written at once when it reaches this size, without waiting for the end of the turn. */
const GROUP_BYTES = 64 * 1024

/**
 * An output file written in groups: the lines handed over in one turn of the event loop (up to
 * 64 KB) go out in one write() call at the end of the turn. The results of a turn are one syscall,
 * not one each. A write() to a regular file is not torn by a kill, so a SIGKILL loses whole lines:
 * the group not yet written (results finished in that turn; --resume sends those requests again)
 * and never half of one. A short write (a full disk) is finished or fails, and resume truncates a
 * torn last line anyway. No fsync per group (it would cap a run at the disk's sync rate): the
 * kernel keeps what was written when the process dies; `sync()` and `close()` fsync.
 * A failed group write is thrown by the next `write`, `sync` or `close`.
 */
export function fileSink(path: string, append: boolean): Sink {
  const fd = openSync(path, append ? 'a' : 'w')
  let closed = false
  let group: string[] = []
  let groupBytes = 0
  let scheduled = false
  let failure: unknown
  const flush = () => {
    if (failure !== undefined) throw failure
    if (group.length === 0) return
    const text = group.length === 1 ? group[0]! : group.join('')
    group = []
    groupBytes = 0
    try {
      writeAll(fd, text)
    } catch (error) {
      failure = error
      throw error
    }
  }
  const flushAtEndOfTurn = () => {
    scheduled = false
    try {
      flush()
    } catch {
      // Kept in `failure`: the next call on the sink throws it, where the job can say so.
    }
  }
  return {
    write(line) {
      if (failure !== undefined) throw failure
      group.push(line)
      groupBytes += line.length
      if (groupBytes >= GROUP_BYTES) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(flushAtEndOfTurn)
      }
      return undefined
    },
    sync() {
      flush()
      sync(fd)
    },
    close() {
      if (closed) return
      closed = true
      try {
        // After a failed write the rest cannot go anywhere; the failure was thrown already.
        if (failure === undefined) flush()
        sync(fd)
      } finally {
        closeSync(fd)
      }
    },
  }
}

/** Writes all of `text`: a regular file takes it in one call; a full disk's short write is finished here. */
function writeAll(fd: number, text: string): void {
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
