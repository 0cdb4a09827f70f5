import { afterAll, describe, expect, it } from 'vitest'
import { killChildren, readOutput, runCli, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => {
  killChildren()
  tmp.remove()
})

describe('volley demo', () => {
  it('runs to completion without a terminal (CI=true), prints progress lines and the summary, and exits 0', async () => {
    // The one slow test: the demo's own defaults (800 requests against a 40/s mock, about 20 s).
    const run = await runCli(['demo', '--dir', tmp.dir])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/^volley: \d+\/800 \(\d+%\) · /m)
    expect(run.stderr).toMatch(/volley: 800 requests in .*: 800 ok, 0 failed/)
    expect(run.stderr).toMatch(/latency {3}p50 \d+ms · p90 \d+ms · p99 \d+ms/)
    // No escape codes: a CI log shows plain lines.
    expect(run.stderr).not.toContain('\u001b[')
    const output = readOutput(`${tmp.dir}/results.jsonl`)
    expect(output).toHaveLength(800)
    expect(new Set(output.map((l) => l.index)).size).toBe(800)
  }, 90_000)
})
