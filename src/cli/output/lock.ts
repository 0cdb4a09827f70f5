import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { Io } from '../io.js'
import { UsageError } from '../usage.js'
import { unwritableOutput } from './sink.js'

/**
 * One run at a time per output file: `<out>.lock` holds the writing process's pid. Two runs on one
 * file (two shards given the same --out, a resume started twice) would each write it and lose or
 * double results. A lock whose process is gone (a run killed with SIGKILL) is taken over, so
 * `--resume` after a crash needs nothing removed by hand. Returns the function that lets go.
 */
export function lockOutput(out: string, io: ProcessFacts): () => void {
  const path = `${out}.lock`
  try {
    writeFileSync(path, String(io.pid), { flag: 'wx' })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EEXIST') throw unwritableOutput(out, error)
    const holder = Number(readFileSync(path, 'utf8'))
    if (isRunning(holder, io)) {
      // A pid is reused: after a crash, another program may hold the one in the lock. Say how to tell.
      throw new UsageError(
        `--out ${out} is being written by another volley run (pid ${holder}): wait for it to end, or give another --out (each --shard its own). If no volley run is writing it (pid ${holder} may be another program, given the pid of a run that crashed: check with \`ps -p ${holder}\`), removing ${path} is safe; then run again`,
      )
    }
    writeFileSync(path, String(io.pid))
  }
  return () => rmSync(path, { force: true })
}

type ProcessFacts = Pick<Io, 'pid' | 'processExists'>

/**
 * Whether a process that exists is a zombie: it has exited and waits for its parent to reap it (for
 * seconds after a SIGKILL, say), so it holds no lock. Linux tells in /proc/<pid>/stat (state 'Z',
 * after the parenthesised name, which may itself hold ') '); elsewhere, or if unreadable, false.
 */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z'
  } catch {
    return false
  }
}

/** Our own pid in a lock is not another run's: a dead run's with the same pid (in a container, every run may be pid 1). */
function isRunning(pid: number, io: ProcessFacts): boolean {
  return Number.isInteger(pid) && pid > 0 && pid !== io.pid && io.processExists(pid)
}
