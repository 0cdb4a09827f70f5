import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { entryHash } from '../../src/cli/fingerprint.js'
import { jobLine } from '../../src/cli/output/resume.js'
import { cliFixture, countLines, expectEachLineOnce, killAtLines, readOutput, runCli } from './helpers.js'

const TOTAL = 5000
const KILLS = 3
const CONCURRENCY = 16

// Some 503s so that requests take several attempts: the at-most-once-per-attempt check then means something.
const fixture = cliFixture({ latency: { min: 1, max: 4 }, faults: { 503: 0.03 }, seed: 11 })
const { tmp } = fixture

describe('crash safety', () => {
  it('a 5,000-request run SIGKILLed three times at random points and resumed ends with every input line exactly once', async () => {
    // Every fifth request is a POST: volley gives it an Idempotency-Key derived from the job and the line.
    const lines = Array.from({ length: TOTAL }, (_, i) =>
      i % 5 === 4 ? JSON.stringify({ url: '/anything/orders', json: { line: i + 1 } }) : `/items/${i + 1}`,
    )
    const input = tmp.file('crash.jsonl', `${lines.join('\n')}\n`)
    const out = join(tmp.dir, 'crash.results.jsonl')
    const args = [
      'run',
      input,
      '--base-url',
      fixture.mock.url,
      '--out',
      out,
      '--resume',
      '--concurrency',
      String(CONCURRENCY),
      '--quiet',
    ]
    const targets: number[] = []
    for (let kill = 0; kill < KILLS; kill++) {
      const before = countLines(out)
      // A random number of new lines, not a timer: the kill lands mid-run however slow the machine is.
      const target = before + 1 + Math.floor(Math.random() * (TOTAL - before) * 0.5)
      targets.push(target)
      const run = await killAtLines(args, out, target)
      expect(run.signal, `run ${kill + 1} should be killed mid-run (targets ${targets})`).toBe('SIGKILL')
    }
    const last = await runCli(args)
    expect(last.code, last.stderr).toBe(0)

    const output = readOutput(out)
    expect(output).toHaveLength(TOTAL)
    expectEachLineOnce(output, TOTAL)
    expect(new Set(output.map((l) => l.id)).size).toBe(TOTAL)

    // The server saw each keyed POST once per attempt written, plus at most once per kill (the
    // attempt in flight when the process died, whose result was never written).
    const seen = fixture.mock.stats().idempotencyKeys
    const posts = output.filter((l) => l.index % 5 === 0)
    expect(posts).toHaveLength(TOTAL / 5)
    let extra = 0
    for (const post of posts) {
      const key = post.json.headers['idempotency-key'] as string
      expect(key).toMatch(new RegExp(`^volley-[0-9a-f]{16}-${post.index}-[0-9a-f]{16}$`))
      const times = seen[key] ?? 0
      expect(times).toBeGreaterThanOrEqual(post.attempts)
      expect(times - post.attempts).toBeLessThanOrEqual(KILLS)
      extra += times - post.attempts
    }
    expect(extra).toBeLessThanOrEqual(KILLS * CONCURRENCY)
    expect(Object.keys(seen)).toHaveLength(TOTAL / 5)
    expect(posts.some((p) => p.attempts > 1)).toBe(true)
  }, 180_000)

  it('a torn last line (a write cut short) is truncated on --resume and its request runs again', async () => {
    const input = tmp.file('torn.jsonl', '/items/1\n/items/2\n/items/3\n')
    const done = { id: 1, index: 1, hash: entryHash({ line: 1, spec: '/items/1' }), ok: true, status: 200 }
    const out = tmp.file(
      'torn.results.jsonl',
      `${jobLine('j1')}${JSON.stringify({ ...done, attempts: 1, ms: 3 })}\n{"id":2,"index":2,"ok":tr`,
    )
    const run = await runCli([
      'run',
      input,
      '--base-url',
      fixture.mock.url,
      '--out',
      out,
      '--resume',
      '--retries',
      '9',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/removed a torn last line \(\d+ bytes\)/)
    expectEachLineOnce(readOutput(out), 3)
  })

  it('refuses to resume into a file whose lines are not volley results, naming the line', async () => {
    const input = tmp.file('other.jsonl', '/items/1\n')
    const out = tmp.file(
      'other.results.jsonl',
      `${jobLine('j1')}{"index":1,"hash":"${entryHash({ line: 1, spec: '/items/1' })}","ok":true}\nhello\n`,
    )
    const run = await runCli(['run', input, '--base-url', fixture.mock.url, '--out', out, '--resume'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/other\.results\.jsonl line 3 is not a volley result line/)
  })
})
