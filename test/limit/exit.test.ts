import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

// A real process, real timers: if volley left a timer or a listener alive, node would not exit.
const script = `
import { createLimiter, all, stream } from ${JSON.stringify(dist)}
const limiter = createLimiter({ concurrency: 2, rate: '3/100ms' })
await Promise.all(Array.from({ length: 7 }, (_, i) => limiter.run(async () => i)))
await all([1, 2, 3, 4], async (x) => x, { rate: '2/50ms' })
for await (const r of stream((function* () { for (let i = 0; ; i++) yield i })(), async (x) => x, { rate: '5/50ms' })) {
  if (r.index === 6) break
}
const waiting = createLimiter({ rate: '1/1h' })
await waiting.run(() => 1)
const queued = waiting.run(() => 2).catch((e) => e.code)
console.log('closed with', await waiting.close().then(() => queued))
`

describe('process exit', () => {
  it('lets a script that used limiters, all and stream exit on its own, without close()', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    })
    expect(stdout.trim()).toBe('closed with CLOSED')
  })
})
