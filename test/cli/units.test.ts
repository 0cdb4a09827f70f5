import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { redactArgv } from '../../src/cli/flags.js'
import { readCsvChunks } from '../../src/cli/input/csv.js'
import { type LineOptions, readLines } from '../../src/cli/input/lines.js'
import { DoneSet } from '../../src/cli/output/done-set.js'
import { isZombie, lockOutput } from '../../src/cli/output/lock.js'
import { recordLine, responseRecord } from '../../src/cli/output/record.js'
import { progressText } from '../../src/cli/report/format.js'
import { plainReporter } from '../../src/cli/report/reporter.js'
import { RunStats } from '../../src/cli/report/stats.js'
import { digest, entryHash } from '../../src/cli/fingerprint.js'
import { InputError } from '../../src/cli/input/entry.js'
import { prepareLine } from '../../src/cli/requests.js'
import { resolveBaseUrl } from '../../src/http/options.js'
import type { RequestObject, RequestSpec } from '../../src/http/spec.js'
import { Response } from '../../src/http/response.js'
import { createManualClock } from '../../src/limit/clock.js'
import { fakeIo } from './fake-io.js'
import { waitFor } from './helpers.js'

async function lines(chunks: (string | Buffer)[], options?: LineOptions) {
  const out = []
  for await (const line of readLines(Readable.from(chunks), options)) out.push(line)
  return out
}

describe('the output lock', () => {
  it('refuses an output another live process holds, takes over one whose process is gone, and lets go', () => {
    const dir = mkdtempSync(join(tmpdir(), 'volley-lock-'))
    const out = join(dir, 'results.jsonl')
    // What bin.ts asks the OS, answered here: the parent (the test runner) is a live process other
    // than this one; every other pid is gone.
    const io = { pid: process.pid, processExists: (pid: number) => pid === process.ppid }
    try {
      writeFileSync(`${out}.lock`, String(process.ppid))
      expect(() => lockOutput(out, io)).toThrow(
        new RegExp(`being written by another volley run \\(pid ${process.ppid}\\)`),
      )
      // A process that has exited: its lock is stale.
      writeFileSync(`${out}.lock`, String(spawnSync(process.execPath, ['-e', '']).pid))
      const unlock = lockOutput(out, io)
      expect(readFileSync(`${out}.lock`, 'utf8')).toBe(String(process.pid))
      unlock()
      expect(existsSync(`${out}.lock`)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('the output lock held by a pid that is not a live volley run', () => {
  it('says to check the pid and that removing <out>.lock is then safe (the pid of a crashed run may be reused)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'volley-lock-'))
    const out = join(dir, 'results.jsonl')
    try {
      writeFileSync(`${out}.lock`, String(process.ppid))
      expect(() => lockOutput(out, { pid: process.pid, processExists: () => true })).toThrow(
        `check with \`ps -p ${process.ppid}\`), removing ${out}.lock is safe; then run again`,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('tells a zombie (exited, not yet reaped: just after a SIGKILL) from a live process', async () => {
    // sh starts a short sleep in the background and becomes a long one, which never reaps it: a zombie.
    const sh = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 5'])
    try {
      const [pid] = (await once(sh.stdout, 'data')) as [Buffer]
      const zombie = Number(pid.toString())
      await waitFor(() => isZombie(zombie), 5000, 'the zombie')
      // Signal 0 still reaches it: what bin.ts's processExists asks first.
      expect(() => process.kill(zombie, 0)).not.toThrow()
      expect([isZombie(sh.pid!), isZombie(process.pid), isZombie(2 ** 22 + 1)]).toEqual([false, false, false])
    } finally {
      sh.kill('SIGKILL')
    }
  })
})

describe('the plain reporter', () => {
  it('prints a progress line every interval of the io clock while the run goes, and none after stop', async () => {
    const clock = createManualClock()
    const { stderr } = fakeIo()
    const stats = new RunStats(clock)
    stats.total = 10
    const reporter = plainReporter(stderr, 3000, clock)
    reporter.start(stats)
    await clock.advance(2999)
    expect(stderr.text).toBe('')
    stats.ok = 3
    await clock.advance(1)
    expect(stderr.text).toBe(
      'volley: 3/10 (30%) · 1.0/s · ETA 7.0s · ok 3 · failed 0 · retries 0 · 429s 0 · in flight 0\n',
    )
    await clock.advance(6000)
    expect(stderr.text.split('\n')).toHaveLength(4)
    reporter.stop()
    await clock.advance(60_000)
    expect(stderr.text.split('\n')).toHaveLength(4)
    expect(clock.pendingTimers()).toBe(0)
  })
})

describe('pauses in the progress and the summary', () => {
  it('the progress says paused until when, and paused time counts only what has passed, overlaps once', async () => {
    const clock = createManualClock()
    const stats = new RunStats(clock)
    stats.active = 1
    stats.pause(240_000) // X-RateLimit-Reset 4 minutes away
    const paused = progressText(stats)
    const endsAt = new Date(clock.wallTime() + 240_000).toTimeString().slice(0, 8)
    expect(paused).toContain(`paused by the server until ${endsAt} (4m00s more)`)
    expect(paused).not.toContain('in flight')
    await clock.advance(60_000)
    stats.pause(30_000) // inside the first: changes nothing
    expect(stats.pausedMs).toBe(60_000)
    await clock.advance(120_000)
    // The run ends here, 3 minutes in: never more paused time than run time.
    expect(stats.pausedMs).toBe(180_000)
    await clock.advance(60_000)
    expect(progressText(stats)).toContain('in flight 1')
    await clock.advance(10_000)
    stats.pause(5000)
    await clock.advance(10_000)
    expect(stats.pausedMs).toBe(245_000)
  })
})

describe('the hashes results files and Idempotency-Keys carry', () => {
  it('stay what earlier versions wrote: --resume compares them, and a key must not change', () => {
    expect(entryHash({ line: 1, spec: '/items/1' })).toBe('ca90f94215486c02')
    expect(entryHash({ line: 2, spec: { url: '/ü', method: 'POST', json: { a: 1 } } })).toBe(
      '65ee5656067b5cb1',
    )
    expect(entryHash({ line: 3, error: new InputError(3, 'bad') })).toBe('3f964f25151fad83')
    expect(digest(['POST', 'https://x/ü', new Uint8Array([1, 2, 3]), 'h: v'])).toBe('3d47eb348e3fa09b')
  })
})

describe('CLI building blocks', () => {
  it('hides secrets in every argument form: attached values, short options, and URLs with credentials', () => {
    expect(
      redactArgv([
        'run',
        'x',
        '--redis=redis://u:hunter2@cache:6379',
        '-HAuthorization: Bearer sekret',
        '--base-url',
        'https://user:pw@api.example.com/v1',
        '--base-url',
        'https://api.example.com/v1',
        // Clustered and attached short options.
        '-qHAuthorization: Bearer clustered',
        '-bhttp://user:pw1234@127.0.0.1:8080',
      ]),
    ).toEqual([
      'run',
      'x',
      '--redis=redis://[REDACTED]@cache:6379',
      '-HAuthorization: [REDACTED]',
      '--base-url',
      'https://[REDACTED]@api.example.com/v1',
      '--base-url',
      'https://api.example.com/v1',
      '-qHAuthorization: [REDACTED]',
      '-bhttp://[REDACTED]@127.0.0.1:8080',
    ])
  })

  it('keeps ordinary body content that merely looks like a credential, and removes the secrets sent', () => {
    const body = JSON.stringify({
      plan: 'Basic tier',
      notes: 'Token bucket',
      next: '/items?page=2&access_token=abc',
      echo: 'Bearer s3cret-value',
      items: [1, 2, 3],
    })
    const response = new Response({
      status: 200,
      statusText: 'OK',
      headers: {},
      url: 'http://127.0.0.1/x',
      attempts: 1,
      ms: 1,
      timings: { start: 0, attempts: [] },
      id: undefined,
      body: Buffer.from(body),
    })
    const line = JSON.parse(
      recordLine(
        responseRecord(response, { id: 1, index: 1, hash: '0123456789abcdef' }, 'json', ['s3cret-value']),
      ),
    )
    expect(line.json).toEqual({ ...JSON.parse(body), echo: 'Bearer [REDACTED]' })
  })

  it('splits input into numbered lines across chunk edges, with CRLF, a BOM, split UTF-8 and no final newline', async () => {
    const euro = Buffer.from('€')
    expect(
      await lines([
        Buffer.from('\uFEFFa\r\nb'),
        Buffer.from('c\n\n'),
        euro.subarray(0, 1),
        Buffer.concat([euro.subarray(1), Buffer.from('\nlast')]),
      ]),
    ).toEqual([
      { line: 1, text: 'a' },
      { line: 2, text: 'bc' },
      { line: 3, text: '' },
      { line: 4, text: '€' },
      { line: 5, text: 'last' },
    ])
  })

  it('joins a line that spans many chunks, a BOM and CRLF at its ends, and keeps the lines around it', async () => {
    const long = 'x'.repeat(64 * 1024)
    const chunks = ['\uFEFFfirst\n', 'a', ...Array.from({ length: 40 }, () => long), 'b\r\nnext\r', '\n']
    // 2.6 MB: over the default --max-line-bytes.
    const read = await lines(chunks, { maxLineBytes: 4 << 20 })
    expect(read.map((l) => [l.line, l.text!.length])).toEqual([
      [1, 5],
      [2, 2 + 40 * long.length],
      [3, 4],
    ])
    expect(read[1]!.text!.startsWith('ax') && read[1]!.text!.endsWith('xb')).toBe(true)
  })

  it('reads CSV records as specs with their line, the --method, and an error entry for a broken record', async () => {
    const entries = []
    const csv = Readable.from(['url,q,ref\n/a,x,r1\n/b,y\n\n/c,,r3\n'])
    const options = { urlColumn: 'url', idColumn: 'ref', paramColumns: undefined, method: 'POST' }
    for await (const group of readCsvChunks(csv, options)) {
      for (const entry of group)
        entries.push(entry.error ? { line: entry.line, error: entry.error.message } : entry)
    }
    expect(entries).toEqual([
      { line: 2, spec: { url: '/a', params: { q: 'x' }, method: 'POST', id: 'r1' } },
      { line: 3, error: expect.stringMatching(/^line 3: not a valid CSV record/) },
      { line: 5, spec: { url: '/c', params: {}, method: 'POST', id: 'r3' } },
    ])
  })

  it('remembers done lines with the hash of their content, growing as needed', () => {
    const done = new DoneSet()
    const hash = (i: number) => digest([String(i)])
    for (const i of [1, 7, 8, 100_000, 7]) done.add(i, hash(i))
    expect(done.size).toBe(4)
    expect(done.end).toBe(100_001)
    expect([1, 2, 7, 8, 9, 100_000, 100_001].map((i) => done.has(i))).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
      false,
    ])
    expect([1, 7, 100_000].every((i) => done.holds(i, hash(i)))).toBe(true)
    expect(done.holds(7, hash(8))).toBe(false)
    expect(done.holds(2, hash(2))).toBe(false)
  })

  it('gives POST and PATCH lines an Idempotency-Key from the job, the line and what is sent, and leaves others alone', () => {
    const defaults = { method: 'GET', job: 'abc', base: new URL('http://api.test/v1/'), secrets: [] }
    const at = (index: number) => ({ index, hash: '0123456789abcdef' })
    const key = (spec: RequestSpec, index = 7, options = defaults) =>
      (prepareLine(spec, at(index), options).spec as RequestObject).idempotencyKey
    const order = { url: '/orders', json: { sku: 'A1' } }
    expect(key(order)).toMatch(/^volley-abc-7-[0-9a-f]{16}$/)
    // The same request on the same line of the same job: the same key, whatever the base URL's spelling.
    expect(key({ ...order })).toBe(key(order))
    for (const spelling of ['http://api.test/v1', 'http://api.test/v1/', 'http://api.test/v1#y'])
      expect(key(order, 7, { ...defaults, base: resolveBaseUrl(spelling) })).toBe(key(order))
    expect(key({ ...order, url: 'http://api.test/v1/orders' })).toBe(key(order))
    // A secret header is no part of the request's identity (a rotated token is the same order).
    expect(key({ ...order, headers: { authorization: 'Bearer t2' } })).toBe(key(order))
    // Anything else sent makes another request: another key.
    const others = [
      key({ ...order, json: { sku: 'A2' } }),
      key({ ...order, url: '/orders?x=1' }),
      key({ ...order, method: 'PATCH' }),
      key({ ...order, headers: { 'x-tenant': 't2' } }),
      key(order, 8),
      key(order, 7, { ...defaults, job: 'abd' }),
      key(order, 7, { ...defaults, base: new URL('http://api.test/v2/') }),
    ]
    expect(new Set([key(order), ...others]).size).toBe(others.length + 1)
    expect(prepareLine('/a', at(3), { ...defaults, method: 'PATCH' }).spec).toMatchObject({
      method: 'PATCH',
      idempotencyKey: expect.stringMatching(/^volley-abc-3-/),
    })
    expect(key({ url: '/a', method: 'POST', headers: { 'Idempotency-Key': 'mine' } })).toBeUndefined()
    expect(key({ url: '/a', method: 'PUT', json: 1 })).toBeUndefined()
    // A spec the client refuses gets no key: the client's error is the result.
    expect(key({ url: '/a', json: 1, colour: 'red' } as RequestObject)).toBeUndefined()
    expect(prepareLine({ url: '/a', id: 'x' }, at(9), defaults).meta).toEqual({ id: 'x', ...at(9) })
    expect(prepareLine(['/s', { api_key: 'k-123456' }], at(4), defaults).secrets).toEqual(['k-123456'])
  })

  it('hides secret header values in the resume hint', () => {
    expect(
      redactArgv([
        'run',
        'x',
        '-H',
        'Authorization: Bearer t0ken',
        '--header=X-Api-Key: k',
        '-H',
        'X-Trace: 1',
      ]),
    ).toEqual([
      'run',
      'x',
      '-H',
      'Authorization: [REDACTED]',
      '--header=X-Api-Key: [REDACTED]',
      '-H',
      'X-Trace: 1',
    ])
  })
})
