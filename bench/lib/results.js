/** Machine-readable results: one JSON line per measurement in bench/results/<bench>.jsonl (gitignored). */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

/** Appends records, each stamped with the run id, so several runs can be compared later. */
export function appendResults(bench, runId, records) {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const lines = records.map((record) => `${JSON.stringify({ bench, runId, ...record })}\n`)
  appendFileSync(join(RESULTS_DIR, `${bench}.jsonl`), lines.join(''))
}

/** Keeps the latest markdown report next to the JSON lines, ready to paste into docs. */
export function writeReport(bench, markdown) {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${bench}.md`)
  writeFileSync(file, markdown)
  return file
}
