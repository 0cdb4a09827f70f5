import { readFileSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { entryHash } from '../../src/cli/fingerprint.js'
import { jobLine } from '../../src/cli/output/resume.js'
import { tinyServer } from '../http/helpers.js'
import { cliFixture, countLines, readOutput, runCli, spawnCli, waitFor } from './helpers.js'

/** A Slack-style list (cursor in response_metadata, items in members), one line per item. */
const SLACK_MEMBERS = ['--paginate', 'cursor:response_metadata.next_cursor:cursor', '--items', 'members']

const fixture = cliFixture({ latency: { min: 0, max: 3 }, seed: 5 })
const { tmp } = fixture
afterEach(() => fixture.mock.resetStats())
let n = 0
const outPath = () => join(tmp.dir, `pages-${++n}.jsonl`)

/** A line of a paginated output: a page record, an item line (`item` set) or a list's error record. */
interface PageLine {
  id: string | number
  index: number
  hash: string
  page: number
  item?: number
  ok: boolean
  status?: number | null
  next?: string | null
  items?: number
  json?: any
  error?: { code: string; message: string }
}

/** Runs `volley run <input> --base-url <the mock> --out <out> ...flags`. */
const cli = (input: string, out: string, ...flags: string[]) =>
  runCli(['run', input, '--base-url', fixture.mock.url, '--out', out, ...flags])
const read = (out: string) => readOutput(out) as unknown as PageLine[]
const listRequests = () => fixture.mock.stats().byPath['/lists/:name'] ?? 0

/** Lists of 1 to 4 pages of 3 items in one style, on lines 1..count. */
function listsInput(name: string, style: string, count: number): { path: string; pages: number[] } {
  const pages = Array.from({ length: count }, (_, i) => 1 + (i % 4))
  const lines = pages.map((p, i) => `"/lists/${name}${i + 1}?style=${style}&pages=${p}&size=3"`)
  return { path: tmp.file(`${name}.jsonl`, `${lines.join('\n')}\n`), pages }
}

/** Every item of every list once, in order within its list, each naming its line, page and place in the page. */
function expectEveryItemOnce(lines: readonly PageLine[], name: string, pages: readonly number[]): void {
  const items = lines.filter((l) => l.item !== undefined)
  pages.forEach((count, i) => {
    const line = i + 1
    const mine = items.filter((l) => l.index === line)
    expect(mine.map((l) => l.json.n)).toEqual(Array.from({ length: count * 3 }, (_, k) => k))
    for (const item of mine) {
      expect(item.json.list).toBe(`${name}${line}`)
      expect(item.page).toBe(Math.floor(item.json.n / 3))
      expect(item.item).toBe(item.json.n % 3)
    }
    // One record per page, after its items; the last one says the list ended.
    const records = lines.filter((l) => l.index === line && l.item === undefined)
    expect(records.map((r) => r.page)).toEqual(Array.from({ length: count }, (_, p) => p))
    expect(records.map((r) => r.next === null)).toEqual(
      Array.from({ length: count }, (_, p) => p === count - 1),
    )
    expect(records.every((r) => r.ok && r.items === 3)).toBe(true)
  })
}

describe('volley run --paginate: every shape of the library', () => {
  const shapes = [
    ['link', 'link', 'link', '.'],
    ['cursor', 'cursor', 'cursor:response_metadata.next_cursor:cursor', 'members'],
    ['stripe', 'stripe', 'stripe', 'data'],
    ['offset', 'offset', 'offset:3', 'items'],
    ['page', 'page', 'page', 'items'],
  ] as const
  for (const [name, style, paginate, items] of shapes) {
    it(`--paginate ${paginate} writes every item of every list once, in order, naming its line and page`, async () => {
      const { path, pages } = listsInput(name, style, 10)
      const out = outPath()
      const run = await cli(
        path,
        out,
        '--paginate',
        paginate,
        '--items',
        items,
        '--concurrency',
        '4',
        '--json',
      )
      expect(run.code, run.stderr).toBe(0)
      const total = pages.reduce((a, b) => a + b, 0)
      expect(listRequests()).toBe(total)
      expectEveryItemOnce(read(out), name, pages)
      const summary = JSON.parse(run.stdout)
      expect(summary).toMatchObject({
        ok: 10,
        failed: 0,
        notRun: 0,
        pages: { pages: total, items: total * 3 },
      })
    })
  }

  it('without --items, one line per page carries the page body, its line, its page and the next URL', async () => {
    const input = tmp.file('bodies.jsonl', '{"url": "/lists/x?style=cursor&pages=3&size=2", "id": "x"}\n')
    const out = outPath()
    const run = await cli(input, out, '--paginate', 'cursor:response_metadata.next_cursor:cursor')
    expect(run.code, run.stderr).toBe(0)
    const lines = read(out)
    expect(lines.map((l) => [l.id, l.index, l.page])).toEqual([
      ['x', 1, 0],
      ['x', 1, 1],
      ['x', 1, 2],
    ])
    expect(lines.map((l) => l.json.members.map((m: { n: number }) => m.n))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ])
    expect(lines[0]!.next).toMatch(/\/lists\/x\?style=cursor&pages=3&size=2&cursor=/)
    expect(lines[2]!.next).toBeNull()
  })
})

describe('volley run --paginate: lists that never end, and broken links', () => {
  it('a `next` loop ends that list with a PAGE_LOOP error naming the line and page; the other lists go on', async () => {
    const input = tmp.file(
      'loops.jsonl',
      [
        '/lists/l1?style=link&pages=6&size=2&loop=3',
        '/lists/l2?style=cursor&pages=6&size=2&loop=2',
        '/lists/ok?pages=2&size=2',
      ]
        .map((url) => JSON.stringify(url))
        .join('\n'),
    )
    const out = outPath()
    const run = await cli(input, out, '--paginate', 'link', '--json')
    expect(run.code, run.stderr).toBe(1)
    const lines = read(out)
    const loop = lines.find((l) => l.index === 1 && !l.ok)!
    expect(loop).toMatchObject({ page: 2, error: { code: 'PAGE_LOOP' } })
    expect(loop.error!.message).toMatch(
      /^line 1, page 2: .*page 2 \(from 0\) asks for a page the list already fetched/,
    )
    expect(lines.filter((l) => l.index === 1).map((l) => l.page)).toEqual([0, 1, 2, 2])
    // The cursor list under --paginate link: no Link header, so its first page is its last.
    expect(lines.filter((l) => l.index === 2).map((l) => [l.page, l.next])).toEqual([[0, null]])
    expect(lines.filter((l) => l.index === 3).map((l) => l.page)).toEqual([0, 1])
    // The looping page is not fetched again: pages 0, 1, 2 of the loop, 1 and 2 of the others.
    expect(listRequests()).toBe(3 + 1 + 2)
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 2, failed: 1, pages: { pages: 6 } })
  })

  it('a cursor that points back to its own page ends the list with PAGE_LOOP', async () => {
    const input = tmp.file('cursor-loop.jsonl', '"/lists/c?style=cursor&pages=5&size=1&loop=2"\n')
    const out = outPath()
    const run = await cli(input, out, ...SLACK_MEMBERS)
    expect(run.code).toBe(1)
    const lines = read(out)
    expect(lines.filter((l) => l.item !== undefined).map((l) => l.json.n)).toEqual([0, 1])
    expect(lines.at(-1)).toMatchObject({ ok: false, page: 1, error: { code: 'PAGE_LOOP' } })
    expect(listRequests()).toBe(2)
  })

  it('a malformed Link header is ignored: the list ends at that page, not in an error', async () => {
    const input = tmp.file('malformed.jsonl', '"/lists/m?style=link&pages=3&size=2&malformed=link"\n')
    const out = outPath()
    const run = await cli(input, out, '--paginate', 'link')
    expect(run.code, run.stderr).toBe(0)
    expect(read(out).map((l) => [l.ok, l.page, l.next])).toEqual([[true, 0, null]])
  })

  it('--max-pages ends a longer list with MAX_PAGES after that many pages, and fetches no more', async () => {
    const input = tmp.file(
      'max.jsonl',
      '"/lists/big?style=page&pages=50&size=1"\n"/lists/small?style=page&pages=2&size=1"\n',
    )
    const out = outPath()
    const run = await cli(input, out, '--paginate', 'page', '--items', 'items', '--max-pages', '3')
    expect(run.code).toBe(1)
    const lines = read(out)
    expect(lines.filter((l) => l.index === 1 && l.item !== undefined).map((l) => l.json.n)).toEqual([0, 1, 2])
    expect(lines.filter((l) => l.index === 1).at(-1)).toMatchObject({
      ok: false,
      page: 2,
      error: { code: 'MAX_PAGES' },
    })
    expect(lines.filter((l) => l.index === 2 && l.item !== undefined)).toHaveLength(2)
    expect(listRequests()).toBe(3 + 2)
  })
})

describe('volley run --paginate: flags', () => {
  const input = () => tmp.file('flags.jsonl', '"/lists/f"\n')
  const refusals: [string[], RegExp][] = [
    [
      ['--paginate', 'pages'],
      /--paginate "pages": "pages" is not a pagination shape; one of link, cursor:<from>:<to>, stripe/,
    ],
    [['--paginate', 'cursor:next'], /--paginate "cursor:next": cursor takes cursor:<from>:<to>/],
    [['--paginate', 'link:x'], /--paginate "link:x": link takes link/],
    [
      ['--paginate', 'offset:0'],
      /--paginate "offset:0": offset\(\): `limit` must be a whole number >= 1, got 0/,
    ],
    [
      ['--paginate', 'page:p::x'],
      /--paginate "page:p::x": pageNumber\(\): `first` must be a whole number >= 1/,
    ],
    [
      ['--paginate', 'link', '--items', 'data..x'],
      /--items must be a dotted path into the JSON body .* got "data..x"/,
    ],
    [['--paginate', 'link', '--max-pages', '0'], /--max-pages must be a whole number >= 1, got "0"/],
    [['--items', 'data'], /--items applies to the pages of a list: give --paginate too/],
    [
      ['--paginate', 'link', '--items', 'data', '--body', 'text'],
      /--items writes each item as JSON: it cannot be given with --body text/,
    ],
  ]
  for (const [flags, message] of refusals) {
    it(`refuses ${flags.join(' ')} with exit 2, naming the flag and the value`, async () => {
      const run = await cli(input(), outPath(), ...flags)
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(listRequests()).toBe(0)
    })
  }

  it("--shard follows only its own lines' lists", async () => {
    const { path } = listsInput('shard', 'stripe', 6)
    const out = outPath()
    const run = await cli(path, out, '--paginate', 'stripe', '--items', 'data', '--shard', '2/3')
    expect(run.code, run.stderr).toBe(0)
    const lines = read(out)
    expect([...new Set(lines.map((l) => l.index))]).toEqual(expect.arrayContaining([2, 5]))
    expect(new Set(lines.map((l) => l.index)).size).toBe(2)
    // Lines 2 and 5: 2 and 1 pages.
    expect(lines.filter((l) => l.item !== undefined)).toHaveLength(9)
  })

  it('--fail-fast stops at the first list that fails, and --resume finishes the others', async () => {
    const lines = [
      '/nope/404',
      ...Array.from({ length: 8 }, (_, i) => `/lists/ff${i}?style=stripe&pages=3&size=2`),
    ]
    const path = tmp.file('ff.jsonl', lines.map((l) => JSON.stringify(l)).join('\n'))
    const out = outPath()
    const args = [
      'run',
      path,
      '--base-url',
      fixture.mock.url,
      '--out',
      out,
      '--paginate',
      'stripe',
      '--items',
      'data',
      '--concurrency',
      '1',
    ]
    const first = await runCli([...args, '--fail-fast'])
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/--fail-fast: line 1 failed \(HTTP\)/)
    expect(read(out).filter((l) => l.index > 1 && l.next === null).length).toBeLessThan(8)
    const second = await runCli([...args, '--resume'])
    expect(second.code).toBe(1) // line 1's 404 is still in the output
    const items = read(out).filter((l) => l.item !== undefined)
    expect(items).toHaveLength(8 * 6)
    expect(new Set(items.map((l) => l.json.id)).size).toBe(8 * 6)
  })
})

describe('volley run --paginate --resume', () => {
  it('Ctrl-C lets the pages in flight finish and starts no new one; --resume fetches only the pages not written', async () => {
    const { path } = listsInput('int', 'cursor', 12)
    const long = tmp.file('int-long.jsonl', readFileSync(path, 'utf8').replace(/pages=\d/g, 'pages=40'))
    const out = outPath()
    const flags = ['--paginate', 'cursor:response_metadata.next_cursor:cursor', '--items', 'members']
    const args = ['run', long, '--base-url', fixture.mock.url, '--out', out, '--concurrency', '4', ...flags]
    const { child, done } = spawnCli(args)
    await waitFor(() => countLines(out) >= 100, 30_000, '100 output lines')
    child.kill('SIGINT')
    const first = await done
    expect(first.code, first.stderr).toBe(130)
    expect(first.stderr).toMatch(/stopped before the end of the input \(\d+ list\(s\) not ended\)/)
    const pagesOf = () => read(out).filter((l) => l.item === undefined).length
    const written = pagesOf()
    expect(written).toBeLessThan(12 * 40)
    // Every page fetched was written: the ones in flight finished, and no list asked for another
    // (none of the 40-page lists in flight went on to its end in the grace period).
    expect(listRequests()).toBe(written)
    expect(read(out).filter((l) => l.next === null)).toHaveLength(0)
    const second = await runCli([...args, '--resume'])
    expect(second.code, second.stderr).toBe(0)
    expect(listRequests()).toBe(12 * 40)
    expect(pagesOf()).toBe(12 * 40)
    const items = read(out).filter((l) => l.item !== undefined)
    expect(new Set(items.map((l) => l.json.id)).size).toBe(items.length)
    expect(items).toHaveLength(12 * 40 * 3)
  })

  it('picks each list up at the page after its last written one, and cuts item lines a kill left without their page', async () => {
    const input = tmp.file(
      'resume.jsonl',
      '"/lists/r1?style=offset&pages=4&size=2"\n"/lists/r2?style=offset&pages=2&size=2"\n',
    )
    const h1 = entryHash({ line: 1, spec: '/lists/r1?style=offset&pages=4&size=2' })
    const base = `${fixture.mock.url}/lists/r1?style=offset&pages=4&size=2`
    const item = (page: number, i: number, n: number) =>
      JSON.stringify({
        id: 1,
        index: 1,
        hash: h1,
        page,
        item: i,
        ok: true,
        json: { id: `r1-${n}`, list: 'r1', n },
      })
    const record = (page: number, next: string) =>
      JSON.stringify({
        id: 1,
        index: 1,
        hash: h1,
        page,
        ok: true,
        status: 200,
        attempts: 1,
        ms: 1,
        next,
        items: 2,
      })
    const out = tmp.file(
      'resume.results.jsonl',
      [
        jobLine('j1').trim(),
        item(0, 0, 0),
        item(0, 1, 1),
        record(0, `${base}&offset=2`),
        item(1, 0, 2),
        item(1, 1, 3),
      ].join('\n') +
        '\n' +
        item(1, 0, 2).slice(0, 20),
    )
    const run = await cli(input, out, '--paginate', 'offset:2', '--items', 'items', '--resume', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/removed a torn last line/)
    const lines = read(out)
    const r1 = lines.filter((l) => l.index === 1 && l.item !== undefined).map((l) => l.json.n)
    expect(r1).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(lines.filter((l) => l.index === 2 && l.item !== undefined).map((l) => l.json.n)).toEqual([
      0, 1, 2, 3,
    ])
    expect(lines.filter((l) => l.index === 1 && l.item === undefined).map((l) => l.page)).toEqual([
      0, 1, 2, 3,
    ])
    // List 1's pages 1-3 and list 2's two pages: page 0 of list 1 was not fetched again.
    expect(listRequests()).toBe(3 + 2)
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: 2, pages: { pages: 5, items: 10 } })
  })

  it('refuses to resume a list whose input line changed since its pages were written, naming the line', async () => {
    const out = outPath()
    const input = tmp.file('edited.jsonl', '"/lists/e?style=page&pages=3&size=1"\n')
    const first = await cli(input, out, '--paginate', 'page', '--max-pages', '1')
    expect(first.code).toBe(1) // MAX_PAGES: the list is done; drop that line to leave it mid-list
    const kept = readFileSync(out, 'utf8').split('\n').slice(0, 2).join('\n') + '\n'
    tmp.file(out.slice(tmp.dir.length + 1), kept)
    tmp.file('edited.jsonl', '"/lists/e?style=page&pages=4&size=1"\n')
    const run = await cli(input, out, '--paginate', 'page', '--resume')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(
      /--resume: input line 1 is not the line its result in .* was run from \(it has changed\)/,
    )
  })

  it('refuses to resume a paginated output without --paginate, and a plain one with it', async () => {
    const input = tmp.file('mixed.jsonl', '"/lists/z?pages=2"\n"/lists/y?pages=2"\n')
    const out = outPath()
    const first = await cli(input, out, '--paginate', 'link')
    expect(first.code, first.stderr).toBe(0)
    const plain = await cli(input, out, '--resume')
    expect(plain.code).toBe(2)
    expect(plain.stderr).toMatch(/holds the pages of a --paginate run: give the same --paginate/)
    const other = outPath()
    expect((await cli(input, other)).code).toBe(0)
    const paged = await cli(input, other, '--resume', '--paginate', 'link')
    expect(paged.code).toBe(2)
    expect(paged.stderr).toMatch(/holds the results of a run without --paginate/)
  })

  it('refuses to resume with another --paginate or --items than the output was written with', async () => {
    const input = tmp.file('shapes.jsonl', '"/lists/s?style=cursor&pages=2&size=2"\n')
    const out = outPath()
    const first = await cli(input, out, ...SLACK_MEMBERS)
    expect(first.code, first.stderr).toBe(0)
    const other = await cli(input, out, '--resume', '--paginate', 'link', '--items', 'members')
    expect(other.code).toBe(2)
    expect(other.stderr).toContain(
      'was written with --paginate cursor:response_metadata.next_cursor:cursor --items members, not --paginate link --items members',
    )
    const noItems = await cli(
      input,
      out,
      '--resume',
      '--paginate',
      'cursor:response_metadata.next_cursor:cursor',
    )
    expect(noItems.code).toBe(2)
    const same = await cli(input, out, '--resume', ...SLACK_MEMBERS)
    expect(same.code, same.stderr).toBe(0)
  })
})

describe('volley run --paginate: secrets and Idempotency-Keys', () => {
  const KEY = 'sk-live-7f3a9c2e'
  const TOKEN = 'tok-91b2c3d4e5'
  let api: Awaited<ReturnType<typeof tinyServer>>
  afterAll(() => api.close())
  beforeAll(async () => {
    // Pages of 2 items; a GET needs the key in the query and the token in the header.
    api = await tinyServer((req, res) => {
      const url = new URL(req.url!, 'http://x')
      if (req.method === 'POST') return pageOf(url, res)
      if (url.searchParams.get('api_key') !== KEY || req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(403).end('{}')
        return
      }
      pageOf(url, res)
    })
  })
  /** Page `p` of three, 2 items each; `next` is the next page's number. */
  const pageOf = (url: URL, res: ServerResponse) => {
    const page = Number(url.searchParams.get('p') ?? url.searchParams.get('pageToken') ?? '0')
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ data: [2 * page, 2 * page + 1], next: page < 2 ? page + 1 : null }))
  }

  it('never writes a secret parameter or a --header-env value into the output, and a resumed list gets them back', async () => {
    const spec = `/things?api_key=${KEY}`
    const input = tmp.file('secret.jsonl', `${JSON.stringify(spec)}\n`)
    const args = [
      'run',
      input,
      '--base-url',
      api.url,
      '--paginate',
      'cursor:next:p',
      '--items',
      'data',
      '--header-env',
      'Authorization: Bearer $TOKEN',
      '--resume',
    ]
    const env = { TOKEN }
    const whole = outPath()
    const run = await runCli([...args, '--out', whole], { env })
    expect(run.code, run.stderr).toBe(0)
    const text = readFileSync(whole, 'utf8')
    expect(text).not.toContain(KEY)
    expect(text).not.toContain(TOKEN)
    expect(
      read(whole)
        .filter((l) => l.item !== undefined)
        .map((l) => l.json),
    ).toEqual([0, 1, 2, 3, 4, 5])
    expect(read(whole)[2]!.next).toMatch(/api_key=(\[REDACTED\]|%5BREDACTED%5D).*p=1/)

    // The same output cut after its first page: the resumed list asks for page 1 with the key restored.
    const cut = text.split('\n').slice(0, 4).join('\n') + '\n'
    const partial = tmp.file('secret-partial.jsonl', cut)
    api.seen.length = 0
    const resumed = await runCli([...args, '--out', partial], { env })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(api.seen.map((s) => new URL(s.url, 'http://x').searchParams.get('p'))).toEqual(['1', '2'])
    expect(api.seen.every((s) => s.url.includes(`api_key=${KEY}`))).toBe(true)
    expect(
      read(partial)
        .filter((l) => l.item !== undefined)
        .map((l) => l.json),
    ).toEqual([0, 1, 2, 3, 4, 5])
    expect(readFileSync(partial, 'utf8')).not.toContain(KEY)
  })

  it('keeps a cursor parameter that only sounds secret (pageToken), so a resumed list goes on from it', async () => {
    const input = tmp.file('token-cursor.jsonl', `${JSON.stringify(`/things?api_key=${KEY}`)}\n`)
    const args = [
      'run',
      input,
      '--base-url',
      api.url,
      '--paginate',
      'cursor:next:pageToken',
      '--items',
      'data',
    ]
    const auth = ['--header-env', 'Authorization: Bearer $TOKEN', '--resume']
    const whole = outPath()
    const run = await runCli([...args, ...auth, '--out', whole], { env: { TOKEN } })
    expect(run.code, run.stderr).toBe(0)
    const text = readFileSync(whole, 'utf8')
    expect(read(whole)[2]!.next).toMatch(/pageToken=1/)
    expect(text).not.toContain(KEY)
    const partial = tmp.file('token-partial.jsonl', text.split('\n').slice(0, 4).join('\n') + '\n')
    api.seen.length = 0
    const resumed = await runCli([...args, ...auth, '--out', partial], { env: { TOKEN } })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(api.seen.map((s) => new URL(s.url, 'http://x').searchParams.get('pageToken'))).toEqual(['1', '2'])
    expect(
      read(partial)
        .filter((l) => l.item !== undefined)
        .map((l) => l.json),
    ).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('gives each page of a POST list its own Idempotency-Key, the same on resume', async () => {
    const input = tmp.file('post.jsonl', `${JSON.stringify({ url: '/search', json: { q: 'x' } })}\n`)
    const args = ['--paginate', 'cursor:next:p', '--items', 'data', '--resume']
    const keys = () => api.seen.filter((s) => s.method === 'POST').map((s) => s.headers['idempotency-key'])
    const whole = outPath()
    api.seen.length = 0
    const run = await runCli(['run', input, '--base-url', api.url, '--out', whole, ...args])
    expect(run.code, run.stderr).toBe(0)
    const [first, ...others] = keys()
    expect(first).toMatch(/^volley-[0-9a-f]{16}-1-[0-9a-f]{16}$/)
    expect(others).toEqual([`${first}-p1`, `${first}-p2`])

    const partial = tmp.file(
      'post-partial.jsonl',
      readFileSync(whole, 'utf8').split('\n').slice(0, 4).join('\n') + '\n',
    )
    api.seen.length = 0
    const resumed = await runCli(['run', input, '--base-url', api.url, '--out', partial, ...args])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(keys()).toEqual(others)
    expect(
      read(partial)
        .filter((l) => l.item !== undefined)
        .map((l) => l.json),
    ).toEqual([0, 1, 2, 3, 4, 5])
  })
})
