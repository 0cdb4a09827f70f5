import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { killChildren, readOutput, runCli, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => {
  killChildren()
  tmp.remove()
})

describe('volley demo', () => {
  it('runs both acts to completion without a terminal (CI=true), prints progress lines and the summaries, and exits 0', async () => {
    // The one slow test: the demo's own defaults (800 requests against a 40/s mock, about 20 s; then
    // 50 chat completions against a 3,000 tokens/s budget, about 10 s).
    const run = await runCli(['demo', '--dir', tmp.dir])
    expect(run.code, run.stderr).toBe(0)
    // No escape codes: a CI log shows plain lines.
    expect(run.stderr).not.toContain('\u001b[')

    // Act one: learned request quota, faults retried.
    expect(run.stderr).toMatch(/^volley: \d+\/800 \(\d+%\) · /m)
    expect(run.stderr).toMatch(/volley: 800 requests in .*: 800 ok, 0 failed/)
    expect(run.stderr).toMatch(/latency {3}p50 \d+ms · p90 \d+ms · p99 \d+ms/)
    expect(run.stderr).toMatch(
      /the mock API counted \d+ requests \(retries included\), 0 refused \(429\); after the first window [\d.]+\/s admitted, [\d.]+% of the quota/,
    )
    const output = readOutput(`${tmp.dir}/results.jsonl`)
    expect(output).toHaveLength(800)
    // Each act writes its report beside its results, and says where.
    for (const report of ['results.report.html', 'chats.results.report.html']) {
      expect(run.stderr).toContain(`volley: the report is in ${tmp.dir}/${report}`)
      expect(readFileSync(`${tmp.dir}/${report}`, 'utf8')).toMatch(/^<!doctype html>/)
    }
    expect(new Set(output.map((l) => l.index)).size).toBe(800)

    // Act two: a token budget learned from OpenAI-style headers, each call's estimate in its line.
    expect(run.stderr).toMatch(/volley: 50 requests in .*: 50 ok, 0 failed/)
    const estimated = Number(/; (\d+) tokens estimated in all\)/.exec(run.stderr)?.[1])
    const tokens =
      /tokens {4}(\d+) estimated \(the lines' costs\) · (\d+) used per the responses' usage · budget 3000 tokens\/[\d.]+s \(learned\)/.exec(
        run.stderr,
      )
    expect(tokens, run.stderr).not.toBeNull()
    // The summary's estimate is the lines' costs; what it says was used is what the server counted.
    expect(Number(tokens![1])).toBe(estimated)
    // Estimates right on average hold the budget: no call refused.
    expect(run.stderr).toMatch(/the mock API counted 50 calls, 0 refused \(429\)/)
    const server = /charged up front \(max_tokens \+ prompt\/4, settled to (\d+) used\)/.exec(run.stderr)
    expect(Number(tokens![2])).toBe(Number(server?.[1]))
    const chats = readOutput(`${tmp.dir}/chats.results.jsonl`)
    expect(chats).toHaveLength(50)
    expect(chats.every((line) => line.ok && line.json.object === 'chat.completion')).toBe(true)
  }, 120_000)

  it('runs one act alone with --act, and refuses an act that does not exist', async () => {
    const bad = await runCli(['demo', '--act', '3', '--dir', tmp.dir])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--act must be one of 1, 2, got "3"/)
    const run = await runCli(['demo', '--act', '2', '--chats', '8', '--dir', `${tmp.dir}/two`])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).not.toMatch(/act 1/)
    expect(run.stderr).toMatch(/volley: 8 requests in .*: 8 ok, 0 failed/)
  }, 60_000)
})
