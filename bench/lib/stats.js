/**
 * Summaries over rounds. Benchmarks report median (min–max): the median resists one noisy round
 * on a shared machine, and min–max shows how noisy it was.
 *
 * @typedef {{ median: number, min: number, max: number, count: number }} Summary
 */

/** @param {number[]} values @returns {Summary | undefined} undefined when there are no values */
export function summarize(values) {
  const sorted = values.filter((v) => typeof v === 'number' && !Number.isNaN(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1], count: sorted.length }
}

/** The value at fraction `q` (0.99: p99) of an ascending array, nearest rank; NaN when empty. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}
