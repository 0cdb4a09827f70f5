/**
 * How a list of task start times (ms, ascending) honours a rate: the figures of BENCH-ANCHORS
 * section 4, for any benchmark that records when its tasks started.
 */

/**
 * Most starts inside any half-open window [t, t + width). The busiest window can always be slid
 * to begin at a start, so checking the windows that begin at each start is enough.
 * @param {number[]} starts ascending @param {number} width ms
 */
export function maxInWindow(starts, width) {
  let max = 0
  let end = 0
  for (let first = 0; first < starts.length; first++) {
    while (end < starts.length && starts[end] < starts[first] + width) end++
    max = Math.max(max, end - first)
  }
  return max
}

/**
 * Shortest time in which `count` consecutive starts happened (span Infinity if fewer), and the
 * position of the first of them. With count = limit + 1, a span >= the interval means the limit
 * held in every sliding window; the position tells where it did not (at the cold start, say).
 * @param {number[]} starts ascending @param {number} count
 */
export function minSpan(starts, count) {
  let span = Number.POSITIVE_INFINITY
  let first = -1
  for (let i = 0; i + count - 1 < starts.length; i++) {
    if (starts[i + count - 1] - starts[i] < span) {
      span = starts[i + count - 1] - starts[i]
      first = i
    }
  }
  return { span, first }
}

/** Starts per second from the first start to the last: (N − 1) / (last − first). */
export function averageRate(starts) {
  if (starts.length < 2) return Number.NaN
  return ((starts.length - 1) * 1000) / (starts.at(-1) - starts[0])
}
