import { randomUUID } from 'node:crypto'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from '../../src/cli/main.js'
import { fakeIo } from './fake-io.js'
import { cliFixture, expectEachLineOnce, readOutput, runCli, waitFor } from './helpers.js'

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

/** A TCP proxy to the local Redis that can be cut: Redis going away mid-run, as volley sees it. */
async function redisProxy(): Promise<{ url: string; cut: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(6379, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () =>
      new Promise((resolve) => {
        // Closed to new connections too: every reconnection attempt is refused.
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}

describe.skipIf(!redisUp)('volley run --redis when Redis goes away mid-run', () => {
  it('writes no result for the lines it could not start, exits 1 naming Redis, and a resume finishes the job', async () => {
    const total = 200
    const input = tmp.file(
      'cut.jsonl',
      Array.from({ length: total }, (_, i) => `/delay/${20 + (i % 5)}`).join('\n'),
    )
    const out = join(tmp.dir, 'cut.jsonl.out')
    const proxy = await redisProxy()
    const io = fakeIo()
    const argv = ['run', input, '--base-url', fixture.mock.url, '--out', out, '-c', '4', '--json']
    const running = run([...argv, '--redis', proxy.url, '--key', `k-${randomUUID()}`], io)
    await waitFor(() => readOutput(out).length >= 10, 20_000, '10 results')
    await proxy.cut()
    expect(await running).toBe(1)
    const written = readOutput(out)
    expect(written.length).toBeLessThan(total)
    // A request the store refused is not the API's failure: not written, so --resume runs it.
    expect(written.every((line) => line.ok)).toBe(true)
    const summary = JSON.parse(io.stdout.text)
    expect(summary).toMatchObject({
      exitCode: 1,
      ok: written.length,
      failed: 0,
      stopped: expect.stringMatching(/^Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/),
    })
    expect(summary.notRun).toBeGreaterThan(0)
    const resumed = await runCli([...argv, '--resume'])
    expect(resumed.code, resumed.stderr).toBe(0)
    expectEachLineOnce(readOutput(out), total)
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
