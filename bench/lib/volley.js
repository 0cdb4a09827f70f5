/**
 * Where the benchmarks load volley from: this checkout's `dist/`, or, in the child of a
 * `--baseline DIR` contender, the other build named by VOLLEY_BENCH_DIST (set by the parent), so
 * the same workload code measures both builds.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const VOLLEY_DIST_ENV = 'VOLLEY_BENCH_DIST'
const ownDist = fileURLToPath(new URL('../../dist/', import.meta.url))

/** Imports `dist/<subpath>` of the volley build under measurement. @param {string} [subpath] */
export function importVolley(subpath = 'index.js') {
  const dist = process.env[VOLLEY_DIST_ENV] || ownDist
  return import(pathToFileURL(join(dist, subpath)).href)
}

/**
 * Imports `dist/<subpath>` of this checkout even in a `--baseline` child: for fixtures that must be
 * the same for both builds, such as the mock server a benchmark measures against.
 * @param {string} subpath
 */
export function importOwnBuild(subpath) {
  return import(pathToFileURL(join(ownDist, subpath)).href)
}

/** `--baseline` accepts a dist directory or a checkout holding one; returns the dist directory. */
export function resolveDist(dir) {
  const absolute = resolve(dir)
  const dist = existsSync(join(absolute, 'index.js')) ? absolute : join(absolute, 'dist')
  if (!existsSync(join(dist, 'index.js')))
    throw new Error(`--baseline: no index.js in ${absolute} or its dist/`)
  return dist
}

/**
 * Runs the volley command line in this process through `run(argv, io)`, exactly as bin.js runs it,
 * with bin.js's io less the terminal (output dropped, no signals, no other process holding a lock,
 * stdin not the input); resolves with its exit code.
 * @param {string[]} argv
 */
export async function runVolleyCli(argv) {
  const { run } = await importVolley('cli/main.js')
  const { systemClock } = await importVolley('limit/clock.js')
  const quiet = { write: () => true, once: () => undefined, isTTY: false }
  const io = {
    stdout: quiet,
    stderr: quiet,
    stdin: process.stdin,
    env: {},
    cwd: process.cwd(),
    onSignal: () => () => {},
    clock: systemClock,
    pid: process.pid,
    processExists: () => false,
    stdinFile: () => undefined,
  }
  return run(argv, io)
}
