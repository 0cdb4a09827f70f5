import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TinyServer, tinyServer } from '../http/helpers.js'
import { killChildren, readOutput, runCli, tempDir } from './helpers.js'

// `volley run` end to end (the built CLI, as a user runs it) against node:http servers on loopback.

const tmp = tempDir()
let a: TinyServer
let b: TinyServer

/** Fixed bodies that hold a short secret as part of a word, a number or a date, and a careless 500. */
const BODIES: Record<string, string> = {
  '/latest': '{"summary":"latest test results"}',
  '/dates': '{"id":2024,"ids":[12024,2024],"created":"2024-05-01T20:24:00Z","ref":"A-2024-7"}',
  '/price': '{"price":998.01,"total":1998.01}',
  '/text': 'latest test results for 2024, 998.01 each',
}

beforeAll(async () => {
  a = await tinyServer((req, res) => {
    const key = req.headers['x-api-key']
    if (req.url === '/echo') res.end(JSON.stringify({ headers: req.headers }))
    else if (req.url === '/fail') res.writeHead(500).end(`{"error":"unexpected","x-api-key":"${key}"}`)
    else res.end(BODIES[req.url!] ?? 'a')
  })
  b = await tinyServer((_req, res) => res.end('b'))
})
afterAll(async () => {
  killChildren()
  await a.close()
  await b.close()
  tmp.remove()
})

let runs = 0
/** Runs `volley run` on these input lines; the output file's text too. */
async function volley(lines: readonly string[], args: readonly string[], env: Record<string, string> = {}) {
  const name = `run-${++runs}`
  const input = tmp.file(`${name}.jsonl`, `${lines.join('\n')}\n`)
  const out = `${tmp.dir}/${name}.out.jsonl`
  const run = await runCli(['run', input, '--out', out, '--retries', '0', ...args], { env })
  return { ...run, out, text: run.code === 2 ? '' : readFileSync(out, 'utf8') }
}

describe('without --base-url, headers go only to the origins named with --allow-origin', () => {
  const headers = ['-H', 'Authorization: Bearer tok-9f8e7d6c', '--header-env', 'X-Api-Key: $KEY']
  const env = { KEY: 'key-1a2b3c4d' }

  it('the named origin gets them; a request to another origin is refused and that origin sees nothing', async () => {
    const before = b.seen.length
    const run = await volley(
      [`"${a.url}/echo"`, `"${b.url}/other"`],
      [...headers, '--allow-origin', a.url],
      env,
    )
    expect(run.code).toBe(1)
    expect(a.seen.at(-1)!.headers).toMatchObject({
      authorization: 'Bearer tok-9f8e7d6c',
      'x-api-key': 'key-1a2b3c4d',
    })
    expect(b.seen.slice(before)).toEqual([])
    const lines = readOutput(run.out)
    expect(lines.find((l) => l.index === 1)).toMatchObject({ ok: true, status: 200 })
    expect(lines.find((l) => l.index === 2)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST', message: expect.stringContaining(new URL(b.url).origin) },
    })
  })

  it('with neither --base-url nor --allow-origin, a run with headers refuses to start, naming the flag', async () => {
    const seen = a.seen.length + b.seen.length
    const run = await volley([`"${a.url}/echo"`, `"${b.url}/other"`], headers, env)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--allow-origin')
    expect(run.stderr).not.toContain('key-1a2b3c4d')
    expect(a.seen.length + b.seen.length).toBe(seen)
  })
})

describe('redaction removes the secrets sent and rewrites nothing else', () => {
  it('bodies holding short secrets inside words, ids, dates and numbers are written byte for byte', async () => {
    const run = await volley(
      ['/latest', '/dates', '/price', '/text', '/echo'],
      ['--base-url', a.url, '-H', 'X-Api-Key: test', '-H', 'X-Secret: 2024', '--header-env', 'X-Token: $T'],
      { T: '998.01' },
    )
    expect(run.code).toBe(0)
    const rawLine = (index: number) => run.text.split('\n').find((l) => l.includes(`"index":${index},`))!
    expect(rawLine(1)).toContain(`,"json":${BODIES['/latest']}}`)
    expect(rawLine(2)).toContain(`,"json":${BODIES['/dates']}}`)
    expect(rawLine(3)).toContain(`,"json":${BODIES['/price']}}`)
    const lines = readOutput(run.out)
    expect(lines.find((l) => l.index === 4)!.text).toBe(BODIES['/text'])
    // The same values echoed back as what they are (header values) are redacted, short or not.
    expect(lines.find((l) => l.index === 5)!.json.headers).toMatchObject({
      'x-api-key': '[REDACTED]',
      'x-secret': '[REDACTED]',
      'x-token': '[REDACTED]',
    })
  })

  it('a 500 echoing a 3-character key does not write the key', async () => {
    const run = await volley(['/fail', '/latest'], ['--base-url', a.url, '-H', 'X-Api-Key: xyz'])
    expect(run.code).toBe(1)
    const lines = readOutput(run.out)
    expect(lines.find((l) => l.index === 1)!.error).toMatchObject({
      code: 'HTTP',
      status: 500,
      body: '{"error":"unexpected","x-api-key":"[REDACTED]"}',
    })
    expect(run.text).not.toContain('"xyz"')
  })
})
