/** Small pieces of workload that several benchmarks run the same way. */

/**
 * `concurrency` async loops that each call `task()` until `count` calls have been made: the
 * no-library baseline. Resolves with the sum of what the tasks returned, for the caller to check.
 * @param {number} count @param {number} concurrency @param {() => Promise<number>} task
 */
export async function workerLoops(count, concurrency, task) {
  let next = 0
  let sum = 0
  const loop = async () => {
    while (next < count) {
      next++
      // Not `sum += await task()`: that reads `sum` before the await and loses updates.
      const value = await task()
      sum += value
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return sum
}

/**
 * Hands `count` calls of `task` to `schedule` at once and awaits them together (the way p-limit
 * and p-queue are usually driven); resolves with the sum of the results.
 * @param {number} count @param {(task: () => Promise<number>) => Promise<number>} schedule
 * @param {() => Promise<number>} task
 */
export async function allAtOnce(count, schedule, task) {
  const results = await Promise.all(Array.from({ length: count }, () => schedule(task)))
  let sum = 0
  for (const value of results) sum += value
  return sum
}
