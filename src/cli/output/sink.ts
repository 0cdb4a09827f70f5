import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { type OutStream, writeOut } from '../io.js'
import { UsageError } from '../usage.js'

/**
 * Where result lines go. `write` takes whole lines (newline included), each with an optional tag
 * (its record) that the sink's `onWritten` is given once the line is out: one callback for the
 * sink, not a closure per line.
 */
export interface Sink<T = never> {
  /**
   * Queues `text` for the output; with a `tag`, `onWritten(tag)` is called once it is in the file
   * (the kernel has it), in order. Undefined for a file; waits for 'drain' on a full pipe. A write
   * that failed earlier (a full disk) throws here: nothing more is taken.
   */
  write(text: string, tag?: T): Promise<void> | undefined
  /** Writes what is queued now; throws the write's error if it failed (now or earlier). */
  flush(): void
  /** Flushes, then to disk (fsync). */
  sync(): void
  /** Writes what is queued (a write that fails is not thrown: see flush), fsyncs and closes. */
  close(): void
}

/** Bytes queued that are written at once, before the turn ends: a group's memory stays small. */
const GROUP_BYTES = 64 * 1024

/**
 * An output file written in groups: the lines queued in one event-loop turn go out in one write()
 * call when the turn ends (or at once past GROUP_BYTES), not one syscall per line. A kill loses
 * what was queued and not yet written (its requests are sent again on resume, as those in flight
 * are), and tears at most the last line (which resume truncates away); lines never interleave.
 * A line is counted (`written`) only once write() has it, so after a failed write (a full disk) the
 * summary counts exactly the lines the file holds. No fsync per group (it would cap a run at the
 * disk's sync rate): the kernel keeps what was written when the process dies; only a machine crash
 * can lose the tail, and resume repairs that too. `close()` fsyncs once at the end.
 */
export function fileSink<T = never>(path: string, append: boolean, onWritten?: (tag: T) => void): Sink<T> {
  const fd = openSync(path, append ? 'a' : 'w')
  let queued: string[] = []
  let tags: (T | undefined)[] = []
  const written = (tag: T | undefined) => {
    if (tag !== undefined) onWritten?.(tag)
  }
  let queuedBytes = 0
  let scheduled: NodeJS.Immediate | undefined
  let failure: unknown
  let closed = false

  const flush = (): void => {
    if (scheduled !== undefined) clearImmediate(scheduled)
    scheduled = undefined
    if (failure !== undefined) throw failure
    if (queued.length === 0) return
    const texts = queued
    const done = tags
    queued = []
    tags = []
    queuedBytes = 0
    const bytes = Buffer.from(texts.join(''))
    let at = 0
    try {
      // A regular file takes the whole group in one call; a full disk's short write is finished here.
      while (at < bytes.length) at += writeSync(fd, bytes, at)
    } catch (error) {
      failure = error
      // The texts the file holds whole are written; the rest never will be.
      let end = 0
      for (let i = 0; i < texts.length; i++) {
        end += Buffer.byteLength(texts[i]!)
        if (end > at) break
        written(done[i])
      }
      throw error
    }
    for (const tag of done) written(tag)
  }
  const flushQuietly = (): void => {
    scheduled = undefined
    try {
      flush()
    } catch {
      // Kept in `failure`: the next write or flush throws it to the job.
    }
  }

  return {
    write(text, tag) {
      if (failure !== undefined) throw failure
      queued.push(text)
      tags.push(tag)
      queuedBytes += text.length
      if (queuedBytes >= GROUP_BYTES) flush()
      else scheduled ??= setImmediate(flushQuietly)
      return undefined
    },
    flush,
    sync() {
      flush()
      sync(fd)
    },
    close() {
      if (closed) return
      closed = true
      if (scheduled !== undefined) clearImmediate(scheduled)
      try {
        // Kept in `failure` if it fails: close() runs after the job's outcome, which it must not replace.
        flushQuietly()
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

/** `--out -`: result lines to stdout, with backpressure; a line counts once the stream has it. */
export function streamSink<T = never>(stream: OutStream, onWritten?: (tag: T) => void): Sink<T> {
  return {
    write(text, tag) {
      const drained = writeOut(stream, text)
      if (tag !== undefined) onWritten?.(tag)
      return drained
    },
    flush() {},
    sync() {},
    close() {},
  }
}

/** The usage error for an --out that cannot be opened for writing (a missing folder, no permission). */
export function unwritableOutput(out: string, error: unknown): UsageError {
  return new UsageError(`--out ${out}: cannot open it for writing: ${(error as Error).message}`)
}
