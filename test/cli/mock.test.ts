import { afterAll, describe, expect, it } from 'vitest'
import { killChildren, runCli, spawnCli, waitFor } from './helpers.js'

afterAll(killChildren)

describe('volley mock', () => {
  it('serves the mock API with the flags given, prints its URL and endpoints, and closes cleanly on SIGTERM', async () => {
    const { child, done } = spawnCli([
      'mock',
      '--port',
      '0',
      '--rate',
      '5/s',
      '--latency',
      '1ms-3ms',
      '--faults',
      '503=0',
      '--seed',
      '3',
    ])
    let stdout = ''
    child.stdout!.on('data', (chunk: string) => (stdout += chunk))
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(stdout), 20_000, 'the URL')
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!
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

  it('exits 2 naming the flag for a bad --faults or --rate', async () => {
    const faults = await runCli(['mock', '--faults', 'teapot=0.5'])
    expect(faults.code).toBe(2)
    expect(faults.stderr).toMatch(/unknown fault "teapot"/)
    const rate = await runCli(['mock', '--rate', 'fast'])
    expect(rate.code).toBe(2)
    expect(rate.stderr).toMatch(/--rate must be a rate such as/)
  })
})
