import { spawn } from 'node:child_process'
import { closeSync, linkSync, openSync, readFileSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/main.js'
import { fakeIo } from './fake-io.js'
import { BIN, expectEachLineOnce, readOutput, runCli, serverFixture } from './helpers.js'
import { startStripeServer } from './stripe.js'

const fixture = serverFixture(() => startStripeServer())
const { tmp } = fixture

const orders = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ url: '/orders', json: { n: from + i } }))

describe('--out that is the input under another name', () => {
  it('is refused before anything is truncated: a symlink, a hard link, stdin redirected from it', async () => {
    const text = `${orders(3).join('\n')}\n`
    const input = tmp.file('same.jsonl', text)
    symlinkSync(input, join(tmp.dir, 'same-symlink.jsonl'))
    linkSync(input, join(tmp.dir, 'same-hardlink.jsonl'))
    // The default output beside the input, as a link to it.
    symlinkSync(input, join(tmp.dir, 'same.results.jsonl'))
    const base = ['--base-url', fixture.server.url, '--overwrite']
    const cases: [string[], Parameters<typeof fakeIo>[0]][] = [
      [['run', input, '--out', 'same-symlink.jsonl', ...base], {}],
      [['run', input, '--out', 'same-hardlink.jsonl', ...base], {}],
      [['run', input, ...base], {}],
      [['run', input, '--out', 'same-symlink.jsonl', ...base, '--resume'], {}],
      [['run', '-', '--out', input, ...base], { stdin: text, stdinFile: statSync(input) }],
    ]
    for (const [argv, options] of cases) {
      const io = fakeIo({ cwd: tmp.dir, ...options })
      expect(await run(argv, io), argv.join(' ')).toBe(2)
      expect(io.stderr.text).toMatch(/is the input file.*: results would overwrite it/)
      expect(readFileSync(input, 'utf8')).toBe(text)
    }
    expect(fixture.server.created).toHaveLength(0)
  })

  it('is refused when the shell redirects stdin from it (bin.ts asks the OS what fd 0 is)', async () => {
    const text = `${orders(2).join('\n')}\n`
    const input = tmp.file('redirected.jsonl', text)
    const fd = openSync(input, 'r')
    try {
      const child = spawn(process.execPath, [BIN, 'run', '-', '--out', input, '--overwrite'], {
        stdio: [fd, 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      const code = await new Promise((resolve) => child.on('close', resolve))
      expect(code, stderr).toBe(2)
      expect(stderr).toMatch(/is the input file \(stdin is read from it\)/)
    } finally {
      closeSync(fd)
    }
    expect(readFileSync(input, 'utf8')).toBe(text)
  })
})

describe('the summary counts what the output file holds', () => {
  it('after a write error (a file size limit, as a full disk): ok is the lines written, every other line is not run', async () => {
    const total = 60
    const input = tmp.file('limit.jsonl', orders(total, 100).join('\n'))
    const out = join(tmp.dir, 'limit.results.jsonl')
    const args = [
      'run',
      input,
      '--base-url',
      fixture.server.url,
      '--out',
      out,
      '--json',
      '--concurrency',
      '4',
    ]
    // `ulimit -f 4`: writes past 4 KiB fail with EFBIG (node ignores SIGXFSZ), one line cut short.
    const child = spawn('bash', ['-c', 'ulimit -f 4 && exec "$@"', 'bash', process.execPath, BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code, stderr).toBe(1)
    expect(stderr).toMatch(/cannot write the output: EFBIG/)
    const lines = readFileSync(out, 'utf8').split('\n')
    // Less the job line, and the last (cut short, or empty if the limit fell between two lines).
    const whole = lines.length - 2
    expect(whole).toBeGreaterThan(0)
    expect(JSON.parse(stdout)).toMatchObject({ ok: whole, failed: 0, notRun: total - whole })
    const resumed = await runCli([...args, '--resume'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({ ok: total - whole, notRun: 0, previouslyDone: whole })
    expectEachLineOnce(readOutput(out), total)
  })
})

describe('--resume from stdin', () => {
  it('checks the lines as it reads them, and refuses an edited input naming the first changed line', async () => {
    const out = join(tmp.dir, 'stdin.results.jsonl')
    const argv = ['run', '-', '--base-url', fixture.server.url, '--out', out, '--quiet']
    const lines = orders(4, 200)
    expect(await run(argv, fakeIo({ stdin: lines.slice(0, 2).join('\n') }))).toBe(0)
    // Appending to the input is fine: the lines done are still where they were.
    expect(await run([...argv, '--resume'], fakeIo({ stdin: lines.slice(0, 3).join('\n') }))).toBe(0)
    const io = fakeIo({ stdin: [lines[3], ...lines].join('\n') })
    expect(await run([...argv, '--resume'], io)).toBe(2)
    expect(io.stderr.text).toMatch(/--resume: input line 1 is not the line its result in .* was run from/)
    expectEachLineOnce(readOutput(out), 3)
  })
})
