/**
 * Round-robin over rounds with the order rotated each round, so that no contender always runs
 * first (cold disk cache) or always right after the heaviest one (a machine still busy freeing
 * its memory), and slow drifts of a shared machine spread over every contender alike.
 */

/** The list rotated left by `round` places. @template T @param {T[]} list @param {number} round */
export function rotated(list, round) {
  const shift = list.length === 0 ? 0 : round % list.length
  return [...list.slice(shift), ...list.slice(0, shift)]
}

/**
 * Calls `measure(unit, round)` for every unit in every round, sequentially (one measurement at a
 * time: parallel children would compete for the 2 cores and distort each other).
 *
 * @template U, R
 * @param {U[]} units
 * @param {number} rounds
 * @param {(unit: U, round: number) => Promise<R>} measure
 * @returns {Promise<{ unit: U, round: number, result: R }[]>}
 */
export async function runRounds(units, rounds, measure) {
  const measurements = []
  for (let round = 0; round < rounds; round++) {
    for (const unit of rotated(units, round)) {
      measurements.push({ unit, round, result: await measure(unit, round) })
    }
  }
  return measurements
}
