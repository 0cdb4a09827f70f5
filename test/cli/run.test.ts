import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type MockServer, startMockServer } from '../../src/mock/index.js'
import { tinyServer } from '../http/helpers.js'
import { cliFixture, expectEachLineOnce, readOutput, runCli, spawnCli, waitFor } from './helpers.js'

const fixture = cliFixture({ seed: 1 })
const { tmp } = fixture
let n = 0
/** A new output path per test. */
const outPath = () => join(tmp.dir, `out-${++n}.jsonl`)

let mock: MockServer
beforeAll(() => {
  mock = fixture.mock
})
afterEach(() => mock.resetStats())

describe('volley run: input formats', () => {
  it('runs JSONL with every spec form and writes one result per line with id, index, status and body', async () => {
    const input = tmp.file(
      'forms.jsonl',
      [
        '"/items/1"',
        '["/anything", {"q": "shoes", "page": 2}]',
        '{"url": "/items/3", "id": "item-3"}',
        '{"url": "/anything", "json": {"qty": 4}, "id": "post-4"}',
        '/items/5',
        '',
        '# a comment is not a request',
      ].join('\n'),
    )
    const out = outPath()
    const run = await runCli(['run', input, '--base-url', mock.url, '--out', out])
    expect(run.code, run.stderr).toBe(0)
    const lines = readOutput(out)
    expect(lines.map((l) => l.index).sort()).toEqual([1, 2, 3, 4, 5])
    const byIndex = new Map(lines.map((l) => [l.index, l]))
    expect(byIndex.get(1)).toMatchObject({ id: 1, ok: true, status: 200, attempts: 1, json: { id: '1' } })
    expect(byIndex.get(2)!.json.query).toEqual({ q: 'shoes', page: '2' })
    expect(byIndex.get(3)).toMatchObject({ id: 'item-3', json: { id: '3' } })
    expect(byIndex.get(4)!.json).toMatchObject({ method: 'POST', json: { qty: 4 } })
    expect(byIndex.get(4)!.json.headers['idempotency-key']).toMatch(/^volley-[0-9a-f]{16}-4-[0-9a-f]{16}$/)
    expect(byIndex.get(5)).toMatchObject({ id: 5, json: { id: '5' } })
    for (const line of lines) expect(line.ms).toBeGreaterThanOrEqual(0)
  })

  it('runs a file of plain URLs (absolute, with --method) and takes each line as is', async () => {
    const input = tmp.file('urls.txt', `${mock.url}/anything/a\n${mock.url}/anything/b?x=1\n`)
    const out = outPath()
    const run = await runCli(['run', input, '--out', out, '--method', 'put', '--body', 'text'])
    expect(run.code, run.stderr).toBe(0)
    const lines = readOutput(out).sort((a, b) => a.index - b.index)
    expect(lines.map((l) => JSON.parse(l.text!).method)).toEqual(['PUT', 'PUT'])
    expect(lines.map((l) => JSON.parse(l.text!).path)).toEqual(['/anything/a', '/anything/b'])
  })

  it('runs CSV: the url column is the URL, --id-column the id, the other columns query params', async () => {
    const input = tmp.file(
      'people.csv',
      'user_id,url,name,city\nu1,/anything/p,Ada,"London, UK"\nu2,/anything/p,Bob\nu3,/anything/p,Cy,Paris\n# a comment\n , , , \n',
    )
    const out = outPath()
    const run = await runCli(['run', input, '--base-url', mock.url, '--out', out, '--id-column', 'user_id'])
    expect(run.code).toBe(1)
    const byIndex = new Map(readOutput(out).map((l) => [l.index, l]))
    expect(byIndex.get(2)).toMatchObject({
      id: 'u1',
      ok: true,
      json: { query: { name: 'Ada', city: 'London, UK' } },
    })
    expect(byIndex.get(4)).toMatchObject({
      id: 'u3',
      ok: true,
      json: { query: { name: 'Cy', city: 'Paris' } },
    })
    // Line 3 has a field missing: an error result naming the line, and the run went on.
    expect(byIndex.get(3)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } })
    expect(byIndex.get(3)!.error!.message).toMatch(/^line 3: /)
    // A '#' comment line and an all-blank record are skipped, as in the other formats.
    expect([...byIndex.keys()].sort()).toEqual([2, 3, 4])
  })

  it('refuses a CSV header that names a column twice, with exit code 2', async () => {
    const input = tmp.file('twice.csv', 'url,q,q\n/a,b,c\n')
    const run = await runCli(['run', input, '--base-url', mock.url, '--out', outPath()])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/names the column `q` twice/)
  })

  it('refuses a CSV whose header lacks the url column with exit code 2, naming the column', async () => {
    const input = tmp.file('nourl.csv', 'link,name\n/a,b\n')
    const run = await runCli(['run', input, '--base-url', mock.url, '--out', outPath()])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/no `url` column \(--url-column\); its columns are: link, name/)
    expect(mock.stats().requests).toBe(0)
  })

  it('reads the input from stdin and writes results to stdout with --out -', async () => {
    const run = await runCli(['run', '-', '--base-url', mock.url, '--out', '-', '--quiet'], {
      stdin: '/items/1\n/items/2\n',
    })
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => l.index).sort()).toEqual([1, 2])
  })

  it('exits 141, not 0, when the reader of --out - closes the pipe before the end', async () => {
    const input = tmp.file('pipe.jsonl', Array.from({ length: 400 }, (_, i) => `/delay/${i % 20}`).join('\n'))
    const { child, done } = spawnCli(['run', input, '--base-url', mock.url, '--out', '-', '--quiet'])
    // The reader takes one chunk and goes away, as `| head -1` does.
    child.stdout!.once('data', () => child.stdout!.destroy())
    const run = await done
    expect(run.code).toBe(141)
    expect(run.stderr).toMatch(/the output pipe was closed by its reader: stopped before the end/)
  })
})

describe('volley run: bad input, headers and exit codes', () => {
  it('turns bad lines into error results naming their line, runs the rest and exits 1', async () => {
    const input = tmp.file(
      'bad.jsonl',
      [
        '/items/1',
        '{"url": "/items/2"',
        '{"url": "/items/3", "colour": "red"}',
        '[1, 2, 3]',
        '/items/5',
        // What `jq .url` prints for a record without a url: no request, an error result.
        'null',
        '42',
      ].join('\n'),
    )
    const out = outPath()
    const run = await runCli(['run', input, '--base-url', mock.url, '--out', out])
    expect(run.code).toBe(1)
    const byIndex = new Map(readOutput(out).map((l) => [l.index, l]))
    expect([...byIndex.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
    for (const literal of [6, 7]) {
      expect(byIndex.get(literal)!.error).toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(new RegExp(`^line ${literal}: a request must be a URL string`)),
      })
    }
    expect(byIndex.get(2)!.error).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^line 2: not valid JSON/),
    })
    expect(byIndex.get(3)!.error).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/^line 3: .*`colour`/),
    })
    expect(byIndex.get(4)!.error!.message).toMatch(/^line 4: /)
    expect(byIndex.get(1)!.ok && byIndex.get(5)!.ok).toBe(true)
    expect(mock.stats().requests).toBe(2)
  })

  it('sends --header and --header-env values and never writes the secret to the output or the terminal', async () => {
    const input = tmp.file(
      'echo.jsonl',
      '/anything\n{"url": "/anything?api_key=k-9f8e7d", "headers": {"x-api-key": "line-secret-77"}}\n/status/418\n',
    )
    const out = outPath()
    const run = await runCli(
      [
        'run',
        input,
        '--base-url',
        mock.url,
        '--out',
        out,
        '-H',
        'X-Trace: trace-1',
        '--header-env',
        'Authorization: Bearer $TEST_TOKEN',
      ],
      { env: { TEST_TOKEN: 'tok-5up3r-s3cr3t' } },
    )
    expect(run.code).toBe(1)
    const text = readFileSync(out, 'utf8')
    for (const secret of ['tok-5up3r-s3cr3t', 'line-secret-77', 'k-9f8e7d']) {
      expect(text).not.toContain(secret)
      expect(run.stderr + run.stdout).not.toContain(secret)
    }
    const echo = readOutput(out).find((l) => l.index === 1)!.json
    expect(echo.headers['x-trace']).toBe('trace-1')
    expect(echo.headers.authorization).toBe('[REDACTED]')
    expect(readOutput(out).find((l) => l.index === 3)).toMatchObject({
      ok: false,
      status: 418,
      error: { code: 'HTTP', status: 418 },
    })
  })

  it('exits 2 for a bad flag or an output that already exists (the other bad flags: main.test.ts)', async () => {
    const input = tmp.file('one.jsonl', '/items/1\n')
    const bad = await runCli(['run', input, '--concurrency', 'lots'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--concurrency must be a whole number >= 1, got "lots"/)
    const out = outPath()
    expect((await runCli(['run', input, '--base-url', mock.url, '--out', out])).code).toBe(0)
    const again = await runCli(['run', input, '--base-url', mock.url, '--out', out])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already exists: add --resume .* or --overwrite/)
  })

  it('names --out when it cannot be opened (exit 2, nothing sent), and says a full disk is the output (exit 1)', async () => {
    const input = tmp.file('two.jsonl', '/items/1\n/items/2\n')
    const missing = await runCli([
      'run',
      input,
      '--base-url',
      mock.url,
      '--out',
      join(tmp.dir, 'no/such/dir/out.jsonl'),
    ])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--out .*no\/such\/dir\/out\.jsonl: cannot open it for writing: ENOENT/)
    expect(mock.stats().requests).toBe(0)
    // /dev/full accepts the open and fails every write with ENOSPC, like a full disk.
    const full = await runCli(['run', input, '--base-url', mock.url, '--out', '/dev/full', '--overwrite'])
    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(/cannot write the output: ENOSPC/)
    expect(full.stderr).not.toMatch(/internal error/)
  })

  it('prints help with examples for every command', async () => {
    for (const command of ['run', 'demo', 'mock']) {
      const run = await runCli([command, '--help'])
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/Examples:\n {2}\$ volley/)
    }
  })
})

describe('volley run: limits, shards, stops', () => {
  it('splits a job with --shard: two shards together cover every line exactly once, each in its own file', async () => {
    const input = tmp.file('shard.jsonl', Array.from({ length: 41 }, (_, i) => `/items/${i + 1}`).join('\n'))
    // No --out: each shard's default file is its own.
    const runs = await Promise.all([
      runCli(['run', input, '--base-url', mock.url, '--shard', '1/2']),
      runCli(['run', input, '--base-url', mock.url, '--shard', '2/2']),
    ])
    expect(runs.map((r) => r.code)).toEqual([0, 0])
    const shardOut = (i: number) => input.replace(/\.jsonl$/, `.shard-${i}-of-2.results.jsonl`)
    const [a, b] = [shardOut(1), shardOut(2)]
    const [first, second] = [readOutput(a), readOutput(b)]
    expect(first.length).toBe(21)
    expect(second.length).toBe(20)
    expectEachLineOnce([...first, ...second], 41)
    expect(mock.stats().requests).toBe(41)
  })

  it('lets one run at a time write an output: two shards given the same --out, one is refused', async () => {
    const input = tmp.file(
      'one-out.jsonl',
      Array.from({ length: 30 }, (_, i) => `/items/${i + 1}`).join('\n'),
    )
    const out = outPath()
    const runs = await Promise.all(
      ['1/2', '2/2'].map((part) =>
        runCli(['run', input, '--base-url', mock.url, '--out', out, '--shard', part]),
      ),
    )
    // The second is refused whether the first still writes (the lock) or has finished (the file exists).
    expect(runs.map((r) => r.code).sort()).toEqual([0, 2])
    expect(runs.find((r) => r.code === 2)!.stderr).toMatch(
      /being written by another volley run|already exists/,
    )
    expect(readOutput(out).length).toBe(15)
  })

  it('stops at the first failure with --fail-fast, exits 1, and --resume then finishes the rest', async () => {
    const lines = ['/status/500', ...Array.from({ length: 60 }, (_, i) => `/delay/${50 + i}`)]
    const input = tmp.file('failfast.jsonl', lines.join('\n'))
    const out = outPath()
    const run = await runCli([
      'run',
      input,
      '--base-url',
      mock.url,
      '--out',
      out,
      '--fail-fast',
      '--retries',
      '0',
      '--concurrency',
      '4',
    ])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/--fail-fast: line 1 failed \(HTTP\)/)
    expect(run.stderr).toMatch(/To finish, run:\n {2}volley run .* --resume/)
    const partial = readOutput(out)
    expect(partial.find((l) => l.index === 1)).toMatchObject({ ok: false, status: 500 })
    expect(partial.length).toBeLessThan(20)
    const resumed = await runCli([
      'run',
      input,
      '--base-url',
      mock.url,
      '--out',
      out,
      '--resume',
      '--concurrency',
      '16',
    ])
    expect(resumed.code).toBe(1) // the failure of line 1 is still in the output
    expectEachLineOnce(readOutput(out), 61)
  })

  it('stops on a 401 (stopOn): nothing more is sent, exit 1, and the rest is left for --resume', async () => {
    const guarded = await startMockServer({ auth: 'right-token' })
    try {
      const input = tmp.file('auth.jsonl', Array.from({ length: 200 }, (_, i) => `/items/${i}`).join('\n'))
      const out = outPath()
      const run = await runCli([
        'run',
        input,
        '--base-url',
        guarded.url,
        '--out',
        out,
        '--concurrency',
        '2',
        '-H',
        'Authorization: Bearer wrong-token',
      ])
      expect(run.code).toBe(1)
      expect(guarded.stats().requests).toBeLessThanOrEqual(4)
      expect(readOutput(out).every((l) => l.status === 401)).toBe(true)
      expect(run.stderr).toMatch(/stopped before the end of the input .*\. To finish, run:/)
      // The summary names the request that stopped the run: the detail of the client's StopReason.
      expect(run.stderr).toMatch(
        /\n {2}stopped {3}GET http:\/\/127\.0\.0\.1:\d+\/items\/\d+ answered 401, which is in stopOn\n/,
      )
      expect(run.stderr).not.toContain('wrong-token')
    } finally {
      await guarded.close()
    }
  })

  it('a 429 storm opens the circuit: the run ends with exit 3, the unsent lines left for --resume', async () => {
    const input = tmp.file('storm.jsonl', Array.from({ length: 200 }, () => '/status/429').join('\n'))
    const out = outPath()
    const run = await runCli(['run', input, '--base-url', mock.url, '--out', out, '--concurrency', '4'])
    expect(run.code, run.stderr).toBe(3)
    // Five counted rounds of at most 4 requests, and their retries: nowhere near 200 x attempts.
    expect(mock.stats().requests).toBeLessThanOrEqual(5 * 4 * 2)
    const written = readOutput(out)
    expect(written.length).toBeLessThan(200)
    expect(written.every((l) => l.error?.code === 'RATE_LIMITED')).toBe(true)
    expect(run.stderr).toMatch(
      /\n {2}stopped {3}http:\/\/127\.0\.0\.1:\d+ refused 5 attempts in a row \(429\/5xx\): circuit open\n/,
    )
    expect(run.stderr).toMatch(/To finish, run:/)
  })

  it('nothing remaining until a far reset: no stall, the run ends at once (exit 3) naming the wait, the rest left for --resume', async () => {
    const spent = await tinyServer((_req, res) =>
      res.writeHead(200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '240' }).end('{}'),
    )
    try {
      const input = tmp.file('spent.jsonl', Array.from({ length: 50 }, (_, i) => `/items/${i}`).join('\n'))
      const out = outPath()
      const run = await runCli(['run', input, '--base-url', spent.url, '--out', out, '--concurrency', '1'])
      expect(run.code, run.stderr).toBe(3)
      expect(spent.seen.length).toBe(1)
      expect(readOutput(out)).toHaveLength(1)
      expect(run.stderr).toMatch(/asked to wait 240 s \(RateLimit reset\), more than maxRetryAfter/)
      expect(run.stderr).toMatch(/To finish, run:/)
    } finally {
      await spent.close()
    }
  })

  it('on SIGINT starts nothing new, lets in-flight requests finish, exits 130 and resumes to every line once', async () => {
    const input = tmp.file(
      'sigint.jsonl',
      Array.from({ length: 300 }, (_, i) => `/delay/${20 + (i % 5)}`).join('\n'),
    )
    const out = outPath()
    const args = ['run', input, '--base-url', mock.url, '--out', out, '--concurrency', '4']
    const { child, done } = spawnCli(args)
    await waitFor(() => readOutput(out).length >= 10, 20_000, '10 output lines')
    child.kill('SIGINT')
    const run = await done
    expect(run.code).toBe(130)
    expect(run.stderr).toMatch(/SIGINT: starting nothing new/)
    const interrupted = readOutput(out)
    expect(interrupted.length).toBeLessThan(300)
    // In-flight requests finished and were written: nothing the server answered was thrown away.
    expect(interrupted.length).toBe(mock.stats().requests)
    const resumed = await runCli([...args, '--resume'])
    expect(resumed.code).toBe(0)
    expectEachLineOnce(readOutput(out), 300)
  })
})
