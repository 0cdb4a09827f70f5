import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/main.js'
import { connectRedis, deletePrefix } from '../redis/helpers.js'
import { fakeIo } from './fake-io.js'
import { cliFixture, expectEachLineOnce, readOutput } from './helpers.js'

const fixture = cliFixture({ seed: 7 })
const { tmp } = fixture
let redis: Redis
const jobs: string[] = []
beforeAll(async () => {
  redis = await connectRedis()
})
afterAll(async () => {
  for (const job of jobs) {
    await deletePrefix(redis, `volley:job:{${job}}:`)
    await deletePrefix(redis, `volley:${job}`)
  }
  redis.disconnect()
})

/** A job name no other test uses. */
function newJob(): string {
  const job = `cli-${randomBytes(4).toString('hex')}`
  jobs.push(job)
  return job
}

async function volley(args: string[], env: Record<string, string> = {}) {
  const io = fakeIo({ cwd: tmp.dir, env })
  const code = await run(args, io)
  return { code, stdout: io.stdout.text, stderr: io.stderr.text }
}

const input = (name: string, count: number) =>
  tmp.file(
    name,
    Array.from({ length: count }, (_, i) =>
      i % 10 === 9 ? '{not json' : JSON.stringify({ url: `/anything/${i + 1}`, json: { n: i + 1 } }),
    ).join('\n'),
  )

/** A record without what differs from run to run (timings). */
const comparable = ({ index, hash, ok, status, json, error }: Record<string, unknown>) => ({
  index,
  hash,
  ok,
  status,
  body: (json as { json?: unknown } | undefined)?.json,
  error: (error as { code?: string } | undefined)?.code,
})

describe('volley submit, work, status and collect', () => {
  it('collect gives every line once, in order, in the records volley run writes for the same input', async () => {
    const job = newJob()
    const file = input('same.jsonl', 60)
    const submitted = await volley(['submit', file, '--job', job])
    expect(submitted.code, submitted.stderr).toBe(0)
    expect(submitted.stderr).toContain(`job ${job}: queued 60 line(s), 60 in all`)
    const base = ['--base-url', fixture.mock.url, '-q']
    const workers = await Promise.all([1, 2].map(() => volley(['work', '--job', job, ...base, '-c', '4'])))
    expect(workers.map((w) => w.code)).toEqual([0, 0])
    const out = join(tmp.dir, 'collected.jsonl')
    expect((await volley(['collect', '--job', job, '--out', out])).code).toBe(0)
    const collected = readOutput(out)
    expectEachLineOnce(collected, 60)
    expect(collected.map((l) => l.index)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))

    const ran = join(tmp.dir, 'ran.jsonl')
    expect((await volley(['run', file, '--out', ran, ...base])).code).toBe(1) // its bad lines fail
    const expected = readOutput(ran).sort((a, b) => a.index - b.index)
    expect(collected.map((r) => comparable(r as never))).toEqual(expected.map((r) => comparable(r as never)))
    expect(collected[9]).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/^line 10: /) },
    })

    const status = JSON.parse((await volley(['status', '--job', job, '--json'])).stdout)
    expect(status).toMatchObject({
      state: 'complete',
      total: 60,
      done: 60,
      ok: 54,
      failed: 6,
      claimed: 0,
      duplicates: 0,
    })
    expect(status.workers).toHaveLength(2)
  })

  it('a partial collect is a volley run output: run --resume finishes the job on one machine', async () => {
    const job = newJob()
    const file = input('partial.jsonl', 30)
    await volley(['submit', file, '--job', job])
    // Half the lines done by hand through the library, then collected before the rest.
    const { workJob } = await import('../../src/redis/index.js')
    const stop = new AbortController()
    let handled = 0
    await workJob({
      job,
      concurrency: 1,
      signal: stop.signal,
      handle: async ({ line, hash }) => {
        if (++handled === 15) stop.abort()
        return {
          ok: true,
          result: JSON.stringify({ id: line, index: line, hash, ok: true, status: 200, attempts: 1, ms: 0 }),
        }
      },
    })
    const out = join(tmp.dir, 'partial-out.jsonl')
    const early = await volley(['collect', '--job', job, '--out', out])
    expect(early.code).toBe(1)
    expect(early.stderr).toContain(`job ${job} is not done: wrote the 15 result(s) recorded so far, of 30`)
    const finished = await volley([
      'run',
      file,
      '--resume',
      '--out',
      out,
      '--base-url',
      fixture.mock.url,
      '-q',
    ])
    expect(finished.stderr).not.toContain('--resume:')
    expectEachLineOnce(readOutput(out), 30)
  })

  it('the workers keep their headers: nothing secret is written to Redis', async () => {
    const job = newJob()
    await volley(['submit', input('secret.jsonl', 12), '--job', job])
    const token = `tok-${randomBytes(8).toString('hex')}`
    const worked = await volley(
      [
        'work',
        '--job',
        job,
        '--base-url',
        fixture.mock.url,
        '--header-env',
        'Authorization: Bearer $TOKEN',
        '-q',
      ],
      { TOKEN: token },
    )
    expect(worked.code, worked.stderr).toBe(0)
    // The echo API sends the header back; the record has it redacted, and no key in Redis holds it.
    const keys = await redis.keys(`volley:*${job}*`)
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) expect(await redis.dump(key)).not.toContain(token)
    const out = join(tmp.dir, 'secret-out.jsonl')
    await volley(['collect', '--job', job, '--out', out])
    expect(readFileSync(out, 'utf8')).not.toContain(token)
  })

  it("a POST's Idempotency-Key derives from the job's name and the line: the same on any worker", async () => {
    const job = newJob()
    await volley(['submit', input('keys.jsonl', 3), '--job', job])
    await volley(['work', '--job', job, '--base-url', fixture.mock.url, '-q'])
    const out = join(tmp.dir, 'keys-out.jsonl')
    await volley(['collect', '--job', job, '--out', out])
    const keys = readOutput(out)
      .filter((l) => l.ok)
      .map((l) => l.json.headers['idempotency-key'])
    expect(keys).toEqual([
      expect.stringMatching(new RegExp(`^volley-${job}-1-[0-9a-f]{16}$`)),
      expect.stringMatching(new RegExp(`^volley-${job}-2-[0-9a-f]{16}$`)),
      expect.stringMatching(new RegExp(`^volley-${job}-3-[0-9a-f]{16}$`)),
    ])
  })

  it('submitting the same input again queues nothing; another input is refused, naming the job', async () => {
    const job = newJob()
    const file = input('again.jsonl', 20)
    await volley(['submit', file, '--job', job])
    const again = await volley(['submit', file, '--job', job])
    expect(again).toMatchObject({ code: 0 })
    expect(again.stderr).toContain(`job ${job} already holds this input (20 lines): nothing queued`)
    const other = await volley(['submit', input('other.jsonl', 21), '--job', job])
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(
      new RegExp(`^volley: job ${job} already holds 20 line\\(s\\) of another input`),
    )
  })

  it('a job that is not there is said, and collect creates no file', async () => {
    const job = newJob()
    const out = join(tmp.dir, 'none.jsonl')
    for (const args of [
      ['work', '--job', job, '--base-url', fixture.mock.url],
      ['status', '--job', job],
      ['collect', '--job', job, '--out', out],
    ]) {
      const result = await volley(args)
      expect(result.code, args[0]).toBe(1)
      expect(result.stderr).toMatch(new RegExp(`job ${job} .*not in Redis|no job ${job} in Redis`))
    }
    expect(existsSync(out)).toBe(false)
  })

  it('a 401 stops the worker and gives its line back: the job is not filled with refusals', async () => {
    const job = newJob()
    writeFileSync(join(tmp.dir, 'auth.jsonl'), ['"/anything/1"', '"/status/401"', '"/anything/3"'].join('\n'))
    await volley(['submit', join(tmp.dir, 'auth.jsonl'), '--job', job])
    const refused = await volley(['work', '--job', job, '--base-url', fixture.mock.url, '-c', '1'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /stopped: line 2: GET .*\/status\/401 answered 401.*; 401 is in stopOn; the lines not finished go to the other workers/,
    )
    const status = JSON.parse((await volley(['status', '--job', job, '--json'])).stdout)
    // Line 1 is done; line 2 has no result (a worker the API accepts will run it), nor has line 3.
    expect(status).toMatchObject({ total: 3, done: 1, failed: 0 })
  })

  it('submit says when input lines carry their own secrets, which Redis then holds', async () => {
    const job = newJob()
    const file = tmp.file(
      'secret-lines.jsonl',
      [
        '"/anything/1"',
        '{"url": "/anything/2", "headers": {"Authorization": "Bearer abc"}}',
        '"/anything/3?api_key=k"',
      ].join('\n'),
    )
    const submitted = await volley(['submit', file, '--job', job])
    expect(submitted.code).toBe(0)
    expect(submitted.stderr).toContain(
      'volley: 2 line(s) of the input carry a secret header or parameter of their own (line 2 first), and Redis holds them as given',
    )
    const plain = await volley(['submit', input('plain.jsonl', 3), '--job', newJob()])
    expect(plain.stderr).not.toContain('secret')
  })

  it('bad flags are refused, naming them', async () => {
    const bad = [
      [['submit', input('x.jsonl', 1), '--job', 'has space'], /--job must be a name of letters, digits/],
      [['submit', input('y.jsonl', 1)], /required option '--job <name>'/],
      [['work', '--job', 'j', '--lease', '10ms'], /--lease must be at least 300ms/],
      [['work', '--job', 'j', '--poison-after', '0'], /--poison-after/],
      [['work', '--job', 'j', '--redis', 'http://x'], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
      [['submit', join(tmp.dir, 'missing.jsonl'), '--job', 'j'], /the input file .* does not exist/],
      [['submit', input('z.jsonl', 1), '--job', 'j', '--ttl', 'soon'], /--ttl/],
      [['submit', input('w.jsonl', 1), '--job', 'j', '--ttl', '10s'], /--ttl must be at least 1m/],
    ] as const
    for (const [args, message] of bad) {
      const result = await volley([...args])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(message)
    }
  })

  it("a line that fell with its workers gets a POISON_LINE record, under the line's own id and hash, and is not sent", async () => {
    const job = newJob()
    const file = tmp.file(
      'poison.jsonl',
      [1, 2, 3].map((n) => JSON.stringify({ url: `/anything/${n}`, id: `order-${n}` })).join('\n'),
    )
    expect((await volley(['submit', file, '--job', job])).code).toBe(0)
    // Line 2's last worker died running it alone, and it had fallen once before: a ghost holds it.
    const key = (name: string) => `volley:job:{${job}}:${name}`
    await redis.xreadgroup('GROUP', 'workers', 'ghost', 'COUNT', 2, 'STREAMS', key('lines'), '>')
    await redis.zadd(key('deadlines'), Date.now() - 1000, 'ghost')
    await redis.hset(key('suspects'), 's:2', 1, 'a:2', 'ghost')
    const before = fixture.mock.stats().requests
    const worked = await volley(['work', '--job', job, '--base-url', fixture.mock.url])
    expect(worked.code, worked.stderr).toBe(0)
    expect(worked.stderr).toContain(
      'line 2: not run again: 2 workers died running it alone (--poison-after 2); its result is a POISON_LINE error',
    )
    expect(fixture.mock.stats().requests - before).toBe(2)
    const out = join(tmp.dir, 'poison-out.jsonl')
    await volley(['collect', '--job', job, '--out', out])
    const records = readOutput(out)
    const ran = join(tmp.dir, 'poison-ran.jsonl')
    await volley(['run', file, '--out', ran, '--base-url', fixture.mock.url, '-q'])
    const hash = readOutput(ran).find((r) => r.index === 2)!.hash
    expect(records.find((r) => r.index === 2)).toMatchObject({
      id: 'order-2',
      hash,
      ok: false,
      error: { code: 'POISON_LINE', message: expect.stringMatching(/2 workers died running it alone/) },
    })
    expect(records.filter((r) => r.ok).map((r) => r.index)).toEqual([1, 3])
  })

  it('status says where a running job stands, per worker', async () => {
    const job = newJob()
    writeFileSync(join(tmp.dir, 'status.jsonl'), '"/anything/1"\n"/anything/2"\n')
    await volley(['submit', join(tmp.dir, 'status.jsonl'), '--job', job])
    const text = (await volley(['status', '--job', job])).stdout
    expect(text).toContain(`job ${job}: running, 2 line(s)`)
    expect(text).toContain('done 0 (0.0%): 0 ok, 0 failed · claimed 0')
    await volley(['work', '--job', job, '--base-url', fixture.mock.url, '-q'])
    const after = (await volley(['status', '--job', job])).stdout
    expect(after).toContain(`job ${job}: complete, 2 line(s)`)
    expect(after).toMatch(/its keys expire in \d+h/)
    expect(after).toMatch(/left, seen .* ago · done 2 · claimed 0/)
  })
})
