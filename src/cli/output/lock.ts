import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { UsageError } from '../usage.js'
import { unwritableOutput } from './sink.js'

/**
 * One run at a time per output file: `<out>.lock` holds the writing process's pid. Two runs on one
 * file (two shards given the same --out, a resume started twice) would each write it and lose or
 * double results. A lock whose process is gone (a run killed with SIGKILL) is taken over, so
 * `--resume` after a crash needs nothing removed by hand. Returns the function that lets go.
 */
export function lockOutput(out: string): () => void {
  const path = `${out}.lock`
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EEXIST') throw unwritableOutput(out, error)
    const holder = Number(readFileSync(path, 'utf8'))
    if (isRunning(holder)) {
      throw new UsageError(
        `--out ${out} is being written by another volley run (pid ${holder}): wait for it to end, or give another --out (each --shard its own)`,
      )
    }
    writeFileSync(path, String(process.pid))
  }
  return () => rmSync(path, { force: true })
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
