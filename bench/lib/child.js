/**
 * The child side of a measurement: run one contender in this fresh process, then print its figures
 * as one JSON line. A fresh process per measurement keeps contenders from sharing a warmed-up JIT
 * or a grown heap, and makes peak RSS (maxRSS of the whole process) belong to one contender.
 */

/** Marks the result line so anything else a library prints on stdout is ignored. */
export const RESULT_PREFIX = 'BENCH-RESULT '

/**
 * Runs `run(params)` and prints `{ ...figures, peakRssMb, cpuS }`; exits so that a library's
 * leftover timers (bottleneck's reservoir refresh, say) cannot hold the process open.
 *
 * @param {(params: any) => Promise<Record<string, unknown>>} run
 * @param {any} params
 */
export async function runInChild(run, params) {
  try {
    const figures = await run(params)
    const usage = process.resourceUsage()
    const line = {
      ...figures,
      peakRssMb: usage.maxRSS / 1024,
      cpuS: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    }
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(line)}\n`, () => process.exit(0))
  } catch (error) {
    process.stderr.write(`${error?.stack ?? error}\n`)
    process.exit(1)
  }
}
