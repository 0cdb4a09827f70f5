import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { testTls } from '../fixtures/tls.js'
import { killChildren, runCli, spawnCli, waitFor } from './helpers.js'

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

afterAll(killChildren)

/** Starts `volley mock --port 0 ...args` and waits for the URL it prints. */
async function startMock(args: string[]) {
  const { child, done } = spawnCli(['mock', '--port', '0', ...args])
  let stdout = ''
  child.stdout!.on('data', (chunk: string) => (stdout += chunk))
  await waitFor(() => /listening on https?:\/\/127\.0\.0\.1:\d+/.test(stdout), 20_000, 'the URL')
  const url = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!
  return { child, done, url, stdout }
}

describe('volley mock', () => {
  it('serves the mock API with the flags given, prints its URL and endpoints, and closes cleanly on SIGTERM', async () => {
    const { child, done, url, stdout } = await startMock([
      '--rate',
      '5/s',
      '--latency',
      '1ms-3ms',
      '--faults',
      '503=0',
      '--seed',
      '3',
    ])
    expect(stdout).toMatch(/rate 5\/1s/)
    expect(stdout).toMatch(/\/items\/:id/)
    const item = await fetch(`${url}/items/7`)
    expect(item.status).toBe(200)
    expect(await item.json()).toMatchObject({ id: '7' })
    const statuses = []
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${url}/items/${i}`)).status)
    expect(statuses).toContain(429)
    child.kill('SIGTERM')
    const run = await done
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(/volley mock: SIGTERM: served 7 requests \(\d+ answered 429\); stopped/)
  })

  it('serves https and HTTP/2 with --tls-cert, --tls-key and --http2', async () => {
    const { child, done, url } = await startMock([
      '--tls-cert',
      fixture('localhost-cert.pem'),
      '--tls-key',
      fixture('localhost-key.pem'),
      '--http2',
    ])
    const dispatcher = new Agent({ allowH2: true, connect: { ca: testTls.cert } })
    try {
      const response = await request(`${url}/anything`, { dispatcher })
      expect(await response.body.json()).toMatchObject({ httpVersion: '2.0' })
    } finally {
      await dispatcher.close()
    }
    child.kill('SIGTERM')
    expect((await done).code).toBe(0)
  })

  it('exits 2 naming the flag for TLS flags that cannot work', async () => {
    const alone = await runCli(['mock', '--tls-cert', fixture('localhost-cert.pem')])
    expect(alone.code).toBe(2)
    expect(alone.stderr).toMatch(/--tls-cert and --tls-key go together/)
    const missing = await runCli([
      'mock',
      '--tls-cert',
      'nope.pem',
      '--tls-key',
      fixture('localhost-key.pem'),
    ])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--tls-cert: cannot read "nope.pem" \(ENOENT\)/)
    const h2 = await runCli(['mock', '--http2'])
    expect(h2.code).toBe(2)
    expect(h2.stderr).toMatch(/--http2 needs --tls-cert and --tls-key/)
  })

  it('exits 2 naming the flag for a bad --faults or --rate', async () => {
    const faults = await runCli(['mock', '--faults', 'teapot=0.5'])
    expect(faults.code).toBe(2)
    expect(faults.stderr).toMatch(/unknown fault "teapot"/)
    const rate = await runCli(['mock', '--rate', 'fast'])
    expect(rate.code).toBe(2)
    expect(rate.stderr).toMatch(/--rate must be a rate such as/)
  })

  it('speaks a profile with --profile, --rate as its request quota and --tokens', async () => {
    const { child, done, url, stdout } = await startMock([
      '--profile',
      'openai',
      '--rate',
      '2/s',
      '--tokens',
      '1000/s',
    ])
    expect(stdout).toMatch(/profile openai: requests 2\/1s, tokens 1000\/1s/)
    expect(stdout).toMatch(/\/v1\/chat\/completions/)
    const reply = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('x-ratelimit-limit-tokens')).toBe('1000')
    expect(reply.headers.get('x-ratelimit-limit-requests')).toBe('2')
    child.kill('SIGTERM')
    expect((await done).code).toBe(0)
  })

  it('exits 2 for an unknown --profile, listing the valid ones, and for a flag the profile does not take', async () => {
    const unknown = await runCli(['mock', '--profile', 'stripe'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(
      /--profile must be one of ietf, openai, anthropic, github, shopify, got "stripe"/,
    )
    const tokens = await runCli(['mock', '--profile', 'github', '--tokens', '5/s'])
    expect(tokens.code).toBe(2)
    expect(tokens.stderr).toMatch(/--tokens needs --profile openai or anthropic/)
    const bucket = await runCli(['mock', '--bucket', '40'])
    expect(bucket.code).toBe(2)
    expect(bucket.stderr).toMatch(/--bucket needs --profile shopify/)
    const help = await runCli(['mock', '--help'])
    expect(help.stdout).toMatch(
      /--profile <name>\s+speak and enforce that API's rate-limit dialect:\s+ietf, openai, anthropic, github, shopify/,
    )
  })
})
