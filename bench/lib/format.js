/** Number formatting for the markdown tables. */

/** @param {number} value @param {number} digits fraction digits */
export function formatNumber(value, digits = 0) {
  if (value === Number.POSITIVE_INFINITY) return '∞'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** "median (min–max)", or just the value when every round agreed. @param {import('./stats.js').Summary | undefined} s */
export function formatSummary(s, digits = 0) {
  if (!s) return 'failed'
  const median = formatNumber(s.median, digits)
  const min = formatNumber(s.min, digits)
  const max = formatNumber(s.max, digits)
  return min === max ? median : `${median} (${min}–${max})`
}

/** A ratio such as "7.35×"; small ones keep two significant digits ("0.00044×") rather than show 0.00. */
export function formatRatio(ratio) {
  if (!Number.isFinite(ratio)) return '—'
  if (ratio < 0.1) return `${Number(ratio.toPrecision(2))}×`
  return `${formatNumber(ratio, ratio >= 100 ? 0 : 2)}×`
}

/**
 * A markdown table with padded columns, readable as plain text in a terminal too.
 * @param {string[]} headers @param {string[][]} rows
 */
export function markdownTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, 3, ...rows.map((row) => row[i].length)))
  const line = (cells) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
