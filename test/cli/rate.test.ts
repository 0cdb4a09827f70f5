import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliFixture, runCli } from './helpers.js'

/**
 * `volley run --rate`, judged at the mock by its arrivals: server-timed (see vitest.config.ts), since
 * suites running beside it would delay the mock's event loop and bunch its timestamps.
 */
const fixture = cliFixture({ seed: 1 })
const { tmp } = fixture

describe('volley run: the rate at the server', () => {
  it('holds --rate: the mock never sees more than 10 requests in any 1 s window', async () => {
    const input = tmp.file('rate.jsonl', Array.from({ length: 25 }, (_, i) => `/items/${i}`).join('\n'))
    const out = join(tmp.dir, 'rate-out.jsonl')
    const run = await runCli([
      'run',
      input,
      '--base-url',
      fixture.mock.url,
      '--out',
      out,
      '--rate',
      '10/s',
      '--concurrency',
      '25',
    ])
    expect(run.code, run.stderr).toBe(0)
    const stats = fixture.mock.stats()
    expect(stats.requests).toBe(25)
    expect(stats.statsWindow).toBe(1000)
    expect(stats.maxWindowArrivals).toBeLessThanOrEqual(10)
    expect(stats.maxWindowArrivals).toBeGreaterThanOrEqual(9)
  })
})
