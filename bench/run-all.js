/**
 * Runs every benchmark script bench/<group>-<name>.js, the core ones first, one after another
 * (never in parallel: they would compete for the cores). Arguments pass through: `--quick`.
 * A script that another bench script imports (a shared server, say) is a helper, not a benchmark,
 * and is skipped. Exits non-zero if any script failed, after running the others.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const benchDir = dirname(self)
/** A hung benchmark must not hold the whole run. */
const TIMEOUT_MS = 20 * 60_000

const isCore = (file) => file.startsWith('core-')
const candidates = readdirSync(benchDir)
  // Not this file itself: its name has a dash too, and running it would recurse forever.
  .filter((file) => /^[a-z0-9]+-[a-z0-9-]+\.js$/.test(file) && file !== basename(self))
const sources = candidates.map((file) => readFileSync(join(benchDir, file), 'utf8'))
const isHelper = (file) => sources.some((source) => source.includes(`'./${file}'`))
const scripts = candidates
  .filter((file) => !isHelper(file))
  .sort((a, b) => Number(isCore(b)) - Number(isCore(a)) || a.localeCompare(b))

const failed = []
for (const script of scripts) {
  process.stderr.write(`\n[run-all] ${script} ${process.argv.slice(2).join(' ')}\n`)
  const { status, error } = spawnSync(process.execPath, [join(benchDir, script), ...process.argv.slice(2)], {
    stdio: 'inherit',
    timeout: TIMEOUT_MS,
  })
  if (status !== 0) failed.push(`${script}${error ? ` (${error.message})` : ''}`)
  process.stdout.write('\n')
}
if (failed.length > 0) {
  process.stderr.write(`[run-all] failed: ${failed.join(', ')}\n`)
  process.exitCode = 1
}
