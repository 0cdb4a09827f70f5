import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliFixture, expectEachLineOnce, readOutput, runCli } from './helpers.js'

const REDIS = 'redis://127.0.0.1:6379'
/** The suite needs a local Redis (`.ci/run` starts one); without it, it is skipped, not failed. */
const redisUp = await new Promise<boolean>((resolve) => {
  const socket = connect(6379, '127.0.0.1')
  socket.once('connect', () => resolve(true))
  socket.once('error', () => resolve(false))
  setTimeout(() => resolve(false), 1000).unref()
}).then((up) => up)

const fixture = cliFixture({ statsWindow: 1000 })
const { tmp } = fixture

describe.skipIf(!redisUp)('volley run --redis --key', () => {
  it('two shards sharing one key through Redis hold one --rate together, measured at the server', async () => {
    const input = tmp.file('shared.jsonl', Array.from({ length: 40 }, (_, i) => `/items/${i + 1}`).join('\n'))
    const key = `volley-cli-test-${randomUUID()}`
    // Two processes' requests reach the server with more different delays than one's (each has its
    // own event loop and Redis round trips; on a loaded 2-core box, tens of ms apart): a wider margin.
    const outs = [join(tmp.dir, 'a.jsonl'), join(tmp.dir, 'b.jsonl')]
    const runs = await Promise.all(
      outs.map((out, i) =>
        runCli([
          'run',
          input,
          '--base-url',
          fixture.mock.url,
          '--out',
          out,
          '--shard',
          `${i + 1}/2`,
          '--rate',
          '10/s',
          '--rate-margin',
          '100ms',
          '--redis',
          REDIS,
          '--key',
          key,
        ]),
      ),
    )
    expect(runs.map((r) => r.code)).toEqual([0, 0])
    expectEachLineOnce(outs.flatMap(readOutput), 40)
    const stats = fixture.mock.stats()
    expect(stats.requests).toBe(40)
    // Each process alone would allow 10/s, 20/s together: the shared window keeps them at 10.
    expect(stats.maxWindowArrivals).toBeLessThanOrEqual(10)
  })

  it('takes the Redis URL from REDIS_URL when --redis has no value, and needs --key', async () => {
    const input = tmp.file('env.jsonl', '/items/1\n')
    const ok = await runCli(
      [
        'run',
        input,
        '--base-url',
        fixture.mock.url,
        '--out',
        join(tmp.dir, 'env.out'),
        '--redis',
        '--key',
        `k-${randomUUID()}`,
      ],
      {
        env: { REDIS_URL: REDIS },
      },
    )
    expect(ok.code, ok.stderr).toBe(0)
    const noKey = await runCli(['run', input, '--redis'])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/--redis needs --key NAME/)
  })
})

describe('volley run --redis with Redis unreachable', () => {
  it('fails clearly, writes nothing it did not run, and a later resume finishes the job', async () => {
    const input = tmp.file('down.jsonl', Array.from({ length: 5 }, (_, i) => `/items/${i + 1}`).join('\n'))
    const out = join(tmp.dir, 'down.jsonl.out')
    // Port 1 on loopback: nothing listens there.
    const run = await runCli([
      'run',
      input,
      '--base-url',
      fixture.mock.url,
      '--out',
      out,
      '--redis',
      'redis://:pw-s3cret@127.0.0.1:1',
      '--key',
      'k',
    ])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/unreachable/)
    expect(run.stderr).toMatch(/To finish, run:/)
    expect(run.stderr).not.toContain('pw-s3cret')
    expect(readOutput(out)).toHaveLength(0)
    const resumed = await runCli(['run', input, '--base-url', fixture.mock.url, '--out', out, '--resume'])
    expect(resumed.code).toBe(0)
    expectEachLineOnce(readOutput(out), 5)
  })
})
