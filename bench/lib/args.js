/**
 * Command-line options shared by every benchmark script.
 *
 *   --quick             fewer rounds and items: a smoke run
 *   --rounds N          override the number of rounds
 *   --only a,b          run only these contenders (names as printed in the tables)
 *   --baseline DIR      also run every volley contender against another build of volley (a dist/
 *                       directory or a checkout with one), as "<name> (baseline)", interleaved
 *   --child NAME        internal: run one contender in this process and print its result line
 *   --params JSON       internal: the parameters for --child
 *
 * @typedef {{ quick: boolean, rounds: number | undefined, only: string[] | undefined,
 *   baseline: string | undefined, child: { name: string, params: any } | undefined }} BenchArgs
 */
import { resolveDist } from './volley.js'

/** The value after `flag` in `argv`, or undefined. @param {string[]} argv @param {string} flag */
export function flagValue(argv, flag) {
  const at = argv.indexOf(flag)
  return at === -1 ? undefined : argv[at + 1]
}

/** @param {string[]} argv @returns {BenchArgs} */
export function parseBenchArgs(argv = process.argv.slice(2)) {
  const value = (flag) => flagValue(argv, flag)
  const rounds = value('--rounds')
  const only = value('--only')
  const child = value('--child')
  const baseline = value('--baseline')
  return {
    quick: argv.includes('--quick'),
    rounds: rounds === undefined ? undefined : positiveInteger(rounds, '--rounds'),
    only: only?.split(',').map((name) => name.trim()),
    baseline: baseline === undefined ? undefined : resolveDist(baseline),
    child: child === undefined ? undefined : { name: child, params: JSON.parse(value('--params') ?? '{}') },
  }
}

function positiveInteger(text, flag) {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number >= 1, got ${text}`)
  return n
}
