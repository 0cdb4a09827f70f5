import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isZombie } from '../../src/cli/output/lock.js'
import { run } from '../../src/cli/main.js'
import { fakeIo } from './fake-io.js'
import { cliFixture, readOutput, runCli, waitFor } from './helpers.js'

const fixture = cliFixture()
const { tmp } = fixture

const REFUSED: [string, string[], RegExp][] = [
  // commander would take '--overwrite' as the key and drop the flag.
  [
    'a value that is a flag',
    ['--redis', '--key', '--overwrite'],
    /--key needs a value, got the flag --overwrite/,
  ],
  ['--out given a flag', ['--out', '--resume'], /--out needs a value, got the flag --resume/],
  [
    'a flag-like header, its value unquoted',
    ['-H', '--X-Key: s3cret'],
    /--header needs a value, got the flag --X-Key: give/,
  ],
  ['--retries 1e9', ['--retries', '1e9'], /--retries must be a whole number from 0 to 100, got "1e9"/],
  ['--max-line-bytes 0', ['--max-line-bytes', '0'], /--max-line-bytes must be a whole number >= 1, got "0"/],
  [
    'a control character in -H',
    ['-H', 'X-Trace: a\u0001b'],
    /--header 'X-Trace: …': the value holds a control character \(U\+0001\)/,
  ],
  [
    'a newline in a secret -H',
    ['-H', 'Authorization: Bearer s3cret\nX-Evil: 1'],
    /--header 'Authorization: …': the value holds a control character \(U\+000A\)/,
  ],
  [
    'a control character from --header-env',
    ['--header-env', 'X-Key: CONTROL_VALUE'],
    /--header-env 'X-Key: …': the value holds a control character \(U\+000D\)/,
  ],
  [
    'a query in --base-url',
    ['--base-url', 'https://api.example.com/v1?api_key=s3cret'],
    /--base-url must not hold a query \('\?…'\): it would not be sent; put such parameters in each line's params/,
  ],
  [
    'user:pass in --base-url',
    ['--base-url', 'http://user:s3cret@api.example.com'],
    /--base-url must not hold a user name or password \(user:pass@host\): they would not be sent; use --header-env 'Authorization: Basic/,
  ],
]

describe('volley run refuses, before anything is sent, what it could not do as asked', () => {
  it.each(REFUSED)('exits 2 naming the flag: %s', async (_what, args, message) => {
    const input = tmp.file('one.jsonl', '/items/1\n')
    // In the temporary directory: were the flag taken as the --out value, the file would land there.
    const io = fakeIo({ env: { CONTROL_VALUE: 'v\r' }, cwd: tmp.dir })
    expect(await run(['run', input, ...args], io)).toBe(2)
    expect(io.stderr.text).toMatch(message)
    expect(io.stderr.text).not.toContain('s3cret')
    expect(fixture.mock.stats().requests).toBe(0)
  })

  it('makes a URL line with user:pass an error result naming its line, with the password hidden', async () => {
    const port = new URL(fixture.mock.url).port
    const input = tmp.file('creds.urls', `/items/1\nhttp://user:s3cret@127.0.0.1:${port}/items/2\n`)
    const out = join(tmp.dir, 'creds.results.jsonl')
    const io = fakeIo()
    expect(await run(['run', input, '--base-url', fixture.mock.url, '--out', out], io)).toBe(1)
    const [first, second] = readOutput(out).sort((a, b) => a.index - b.index)
    expect(first!.ok).toBe(true)
    expect(second!.error).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/^line 2: .*holds a user name or password, which is not sent/),
    })
    expect(JSON.stringify(second)).not.toContain('s3cret')
    expect(fixture.mock.stats().requests).toBe(1)
  })

  it('resumes over a lock whose run was SIGKILLed and is still a zombie (exited, not reaped)', async () => {
    const input = tmp.file('zombie.jsonl', '/items/1\n/items/2\n')
    const out = join(tmp.dir, 'zombie.results.jsonl')
    // A short sleep in the background of a shell that becomes a long one: nobody reaps it.
    const sh = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 10'])
    try {
      const zombie = Number(String(((await once(sh.stdout, 'data')) as [Buffer])[0]))
      await waitFor(() => isZombie(zombie), 5000, 'the zombie')
      writeFileSync(out, '')
      writeFileSync(`${out}.lock`, String(zombie))
      const resumed = await runCli(['run', input, '--base-url', fixture.mock.url, '--out', out, '--resume'])
      expect(resumed.stderr).not.toMatch(/being written by another volley run/)
      expect(resumed.code).toBe(0)
      expect(readOutput(out)).toHaveLength(2)
    } finally {
      sh.kill('SIGKILL')
    }
  })
})
