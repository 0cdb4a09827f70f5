import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { redactArgv } from '../../src/cli/flags.js'
import { readCsv } from '../../src/cli/input/csv.js'
import { type LineOptions, readLines } from '../../src/cli/input/lines.js'
import { DoneSet } from '../../src/cli/output/done-set.js'
import { isZombie, lockOutput } from '../../src/cli/output/lock.js'
import { recordLine, responseRecord } from '../../src/cli/output/record.js'
import { plainReporter } from '../../src/cli/report/reporter.js'
import { RunStats } from '../../src/cli/report/stats.js'
import { prepareLine } from '../../src/cli/requests.js'
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
      id: undefined,
      body: Buffer.from(body),
    })
    const line = JSON.parse(
      recordLine(responseRecord(response, { id: 1, index: 1 }, 'json', ['s3cret-value'])),
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
    for await (const entry of readCsv(csv, {
      urlColumn: 'url',
      idColumn: 'ref',
      paramColumns: undefined,
      method: 'POST',
    })) {
      entries.push(entry.error ? { line: entry.line, error: entry.error.message } : entry)
    }
    expect(entries).toEqual([
      { line: 2, spec: { url: '/a', params: { q: 'x' }, method: 'POST', id: 'r1' } },
      { line: 3, error: expect.stringMatching(/^line 3: not a valid CSV record/) },
      { line: 5, spec: { url: '/c', params: {}, method: 'POST', id: 'r3' } },
    ])
  })

  it('remembers done lines as bits, growing as needed', () => {
    const done = new DoneSet()
    for (const i of [1, 7, 8, 100_000, 7]) done.add(i)
    expect(done.size).toBe(4)
    expect([1, 2, 7, 8, 9, 100_000, 100_001].map((i) => done.has(i))).toEqual([
      true,
      false,
      true,
      true,
      false,
      true,
      false,
    ])
  })

  it('gives POST and PATCH lines an Idempotency-Key from the run and the line, and leaves others alone', () => {
    const defaults = { method: 'GET', runId: 'abc', secrets: [] }
    expect(prepareLine({ url: '/a', json: { x: 1 } }, 7, defaults).spec).toMatchObject({
      idempotencyKey: 'volley-abc-7',
    })
    expect(prepareLine('/a', 3, { ...defaults, method: 'PATCH' }).spec).toMatchObject({
      method: 'PATCH',
      idempotencyKey: 'volley-abc-3',
    })
    expect(
      prepareLine({ url: '/a', method: 'POST', headers: { 'Idempotency-Key': 'mine' } }, 2, defaults).spec,
    ).not.toHaveProperty('idempotencyKey')
    expect(prepareLine({ url: '/a', method: 'PUT', json: 1 }, 2, defaults).spec).not.toHaveProperty(
      'idempotencyKey',
    )
    expect(prepareLine({ url: '/a', id: 'x' }, 9, defaults).meta).toEqual({ id: 'x', index: 9 })
    expect(prepareLine(['/s', { api_key: 'k-123456' }], 4, defaults).secrets).toEqual(['k-123456'])
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
