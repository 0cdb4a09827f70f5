import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/main.js'
import { fakeIo } from './fake-io.js'
import {
  countLines,
  expectEachLineOnce,
  readOutput,
  runCli,
  spawnCli,
  waitFor,
  serverFixture,
} from './helpers.js'
import { startStripeServer } from './stripe.js'

const fixture = serverFixture(() => startStripeServer(30))
const { tmp } = fixture

const orders = (day: number, count: number) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ url: '/orders', json: { day, n: i + 1 } })).join(
    '\n',
  )
/** The orders the server created, as `day/n`. */
const createdSince = (from: number) =>
  fixture.server.created.slice(from).map((order) => {
    const { day, n } = order as { day: number; n: number }
    return `${day}/${n}`
  })

describe('Idempotency-Keys against a Stripe-style API that replays a repeated key', () => {
  it("creates every order of a new job: a new day's orders in the same file with --overwrite, two stdin jobs with one --out", async () => {
    const input = tmp.file('orders.jsonl', orders(1, 5))
    const argv = ['run', input, '--base-url', `${fixture.server.url}/v1`, '--quiet']
    const before = fixture.server.created.length
    expect(await run(argv, fakeIo())).toBe(0)
    tmp.file('orders.jsonl', orders(2, 5))
    expect(await run([...argv, '--overwrite'], fakeIo())).toBe(0)
    // The output is the server's answer to each new order, not a replay of yesterday's.
    const out = join(tmp.dir, 'orders.results.jsonl')
    expect(readOutput(out).map((line) => line.json.order.day)).toEqual([2, 2, 2, 2, 2])
    const stdinOut = join(tmp.dir, 'stdin.results.jsonl')
    for (const day of [3, 4]) {
      const io = fakeIo({ stdin: orders(day, 5) })
      const flags = ['--out', stdinOut, '--quiet', '--overwrite']
      expect(await run(['run', '-', '--base-url', `${fixture.server.url}/v1`, ...flags], io)).toBe(0)
    }
    expect(createdSince(before).sort()).toEqual(
      [1, 2, 3, 4].flatMap((day) => [1, 2, 3, 4, 5].map((n) => `${day}/${n}`)).sort(),
    )
  })

  it('creates no order twice when a run is SIGKILLed and resumed, with --base-url spelled with a trailing slash', async () => {
    // 200 orders at 8 in flight take about 750 ms against the 30 ms server: the kill at 20 lines
    // lands mid-run even when a loaded machine polls the output late (80 could all be done first).
    const total = 200
    const input = tmp.file('killed.jsonl', orders(5, total))
    const out = join(tmp.dir, 'killed.results.jsonl')
    const flags = ['--out', out, '--concurrency', '8', '--quiet']
    const before = fixture.server.created.length
    const replaysBefore = fixture.server.replays
    const { child, done } = spawnCli(['run', input, '--base-url', `${fixture.server.url}/v1`, ...flags])
    let exited = false
    void done.then(() => (exited = true))
    await waitFor(() => exited || countLines(out) >= 20, 20_000, '20 output lines')
    child.kill('SIGKILL')
    expect((await done).signal).toBe('SIGKILL')
    const resumed = await runCli([
      'run',
      input,
      '--base-url',
      `${fixture.server.url}/v1/`,
      ...flags,
      '--resume',
    ])
    expect(resumed.code, resumed.stderr).toBe(0)
    expectEachLineOnce(readOutput(out), total)
    expect(createdSince(before).sort()).toEqual(Array.from({ length: total }, (_, i) => `5/${i + 1}`).sort())
    // Orders in flight when the run died were created, then sent again by the resume under the
    // same keys and replayed: the case this test is about did happen.
    expect(fixture.server.replays - replaysBefore).toBeGreaterThan(0)
  })

  it('keeps the keys of --run-id across new jobs (to send a lost job again safely), and refuses a resume under another', async () => {
    const input = tmp.file('chosen.jsonl', orders(6, 3))
    const argv = ['run', input, '--base-url', fixture.server.url, '--quiet', '--run-id', 'batch-6']
    const before = fixture.server.created.length
    expect(await run(argv, fakeIo())).toBe(0)
    const replays = fixture.server.replays
    expect(await run([...argv, '--overwrite'], fakeIo())).toBe(0)
    expect(fixture.server.replays - replays).toBe(3)
    expect(createdSince(before)).toHaveLength(3)
    const other = fakeIo()
    expect(await run([...argv.slice(0, -1), 'batch-7', '--resume'], other)).toBe(2)
    expect(other.stderr.text).toMatch(/--run-id batch-7 is not the id of the job in .* \(batch-6\)/)
  })
})
