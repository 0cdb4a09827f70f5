import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/main.js'
import { createManualClock } from '../../src/limit/clock.js'
import { fakeIo } from './fake-io.js'
import { cliFixture, readOutput, waitFor } from './helpers.js'

const fixture = cliFixture()
const { tmp } = fixture

describe('run(argv, io) without spawning', () => {
  it('exits 2 with a message naming the flag and the bad value', async () => {
    const input = tmp.file('one.jsonl', '/items/1\n')
    const cases: [string[], RegExp][] = [
      [['run', input, '--concurrency', 'lots'], /--concurrency must be a whole number >= 1, got "lots"/],
      [['run', input, '--rate', '5/fortnight'], /--rate must be a rate such as '5\/s'.*"5\/fortnight"/],
      [['run', input, '--timeout', '0'], /--timeout must be more than 0, got "0"/],
      [['run', input, '--shard', '3/2'], /--shard must be i\/n .* got "3\/2"/],
      [['run', input, '--body', 'xml'], /--body must be one of json, text, none, got "xml"/],
      [['run', input, '--format', 'xlsx'], /--format must be one of jsonl, urls, csv, got "xlsx"/],
      [
        ['run', input, '--base-url', 'ftp://x'],
        /--base-url must be an absolute http\(s\) URL .* got "ftp:\/\/x"/,
      ],
      [
        ['run', input, '-H', 'no colon here'],
        /--header must look like 'Name: value', got a value without a colon/,
      ],
      [
        ['run', input, '--header-env', 'Authorization: NOT_SET_ANYWHERE'],
        /the environment variable NOT_SET_ANYWHERE is not set/,
      ],
      [['run', join(tmp.dir, 'missing.jsonl')], /the input file .*missing\.jsonl does not exist/],
      [['run', input, '--out', input], /is the input file/],
      [['run', '-', '--out', '-', '--resume'], /--resume needs an output file/],
      [['run'], /missing required argument 'input'/],
      [['nonsense'], /unknown command 'nonsense'/],
    ]
    for (const [argv, message] of cases) {
      const io = fakeIo()
      expect(await run(argv, io), argv.join(' ')).toBe(2)
      expect(io.stderr.text).toMatch(message)
    }
  })

  it('prints the version and help with exit code 0', async () => {
    const io = fakeIo()
    expect(await run(['--version'], io)).toBe(0)
    expect(io.stdout.text).toMatch(/^\d+\.\d+\.\d+/)
    const help = fakeIo()
    expect(await run(['run', '--help'], help)).toBe(0)
    expect(help.stdout.text).toMatch(/--resume/)
  })

  it('runs stdin to stdout and prints a JSON summary with --json', async () => {
    const io = fakeIo({ stdin: '/items/1\n/status/503\n' })
    const code = await run(
      ['run', '-', '--base-url', fixture.mock.url, '--out', '-', '--json', '--retries', '0'],
      io,
    )
    expect(code).toBe(1)
    const lines = io.stdout.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => [l.index, l.status]).sort()).toEqual([
      [1, 200],
      [2, 503],
    ])
    const summary = JSON.parse(io.stderr.text.trim().split('\n').at(-1)!)
    expect(summary).toMatchObject({ exitCode: 1, ok: 1, failed: 1, statuses: { '200': 1, '503': 1 } })
  })

  it('on SIGINT stops reading, writes what finished, prints how to resume (secrets hidden) and exits 130', async () => {
    const input = tmp.file('slow.jsonl', Array.from({ length: 100 }, (_, i) => `/delay/${30 + i}`).join('\n'))
    const out = join(tmp.dir, 'slow.results.jsonl')
    const io = fakeIo()
    const argv = [
      'run',
      input,
      '--base-url',
      fixture.mock.url,
      '--out',
      out,
      '-c',
      '2',
      '-H',
      'Authorization: Bearer hunter2-secret',
    ]
    const running = run(argv, io)
    await waitFor(() => readOutput(out).length >= 3, 20_000, '3 results')
    io.signal('SIGINT')
    expect(await running).toBe(130)
    expect(readOutput(out).length).toBeLessThan(100)
    expect(io.stderr.text).toMatch(
      /To finish, run:\n {2}volley run .* -H 'Authorization: \[REDACTED\]' --resume/,
    )
    expect(io.stderr.text).not.toContain('hunter2-secret')
  })

  it('after SIGINT gives requests in flight --grace on the io clock, then abandons them unwritten and exits 130', async () => {
    const clock = createManualClock()
    const { mock } = fixture
    // Requests that take a minute and a 10-minute grace period: only the manual io clock ends the
    // test in time. The per-attempt --timeout runs on that clock too, so it is set longer.
    const input = tmp.file('hang.jsonl', Array.from({ length: 10 }, () => '/delay/60000').join('\n'))
    const out = join(tmp.dir, 'hang.results.jsonl')
    const io = fakeIo({ clock })
    const flags = ['-c', '2', '--grace', '10min', '--timeout', '1h', '--json']
    let settled = false
    const running = run(['run', input, '--base-url', mock.url, '--out', out, ...flags], io).finally(
      () => (settled = true),
    )
    await waitFor(() => mock.stats().inFlight === 2, 20_000, '2 requests in flight')
    io.signal('SIGINT')
    expect(io.stderr.text).toMatch(/SIGINT: starting nothing new; letting 2 in flight finish for up to 600 s/)
    await clock.advance(599_999)
    expect(settled).toBe(false)
    expect(mock.stats().inFlight).toBe(2)
    await clock.advance(1)
    expect(await running).toBe(130)
    expect(readOutput(out)).toEqual([])
    await waitFor(() => mock.stats().inFlight === 0, 20_000, 'the abandoned requests to be gone')
    expect(JSON.parse(io.stdout.text)).toMatchObject({
      exitCode: 130,
      ok: 0,
      failed: 0,
      // The 2 abandoned in flight and the 8 never read: none is in the output.
      notRun: 10,
      interrupted: true,
      stopped: 'interrupted by SIGINT',
      // Time is the io clock's: the run lasted exactly the grace period on it.
      elapsedMs: 600_000,
    })
  })
})
