import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliFixture, countLines, killAtLines, readOutput, runCli } from './helpers.js'

const LISTS = 60
const PAGES = 8
const SIZE = 5
const KILLS = 3
const CONCURRENCY = 6

// Latency so that pages are in flight when a kill lands.
const fixture = cliFixture({ latency: { min: 1, max: 6 }, seed: 13 })
const { tmp } = fixture
const listRequests = () => fixture.mock.stats().byPath['/lists/:name'] ?? 0

interface Line {
  index: number
  page: number
  item?: number
  ok: boolean
  next?: string | null
  json?: { id: string; list: string; n: number }
}

/** The page records (not item lines) in an output file so far. */
const pagesWritten = (out: string) =>
  (readOutput(out) as unknown as Line[]).filter((l) => l.item === undefined).length

describe('crash safety of --paginate', () => {
  it('a paginated run SIGKILLed three times mid-list and resumed writes every item once, and never fetches a written page again', async () => {
    const lines = Array.from({ length: LISTS }, (_, i) =>
      JSON.stringify(`/lists/k${i + 1}?style=cursor&pages=${PAGES}&size=${SIZE}`),
    )
    const input = tmp.file('kill.jsonl', `${lines.join('\n')}\n`)
    const out = join(tmp.dir, 'kill.results.jsonl')
    const args = ['run', input, '--base-url', fixture.mock.url, '--out', out, '--resume', '--quiet']
    args.push('--paginate', 'cursor:response_metadata.next_cursor:cursor', '--items', 'members')
    args.push('--concurrency', String(CONCURRENCY))
    // Each line of the file is an item or a page record: (SIZE + 1) lines per page, plus the job line.
    const totalLines = 1 + LISTS * PAGES * (SIZE + 1)
    const targets: number[] = []
    for (let kill = 0; kill < KILLS; kill++) {
      const before = countLines(out)
      const written = before > 0 ? pagesWritten(out) : 0
      const requested = listRequests()
      // A random number of new lines, not a timer: the kill lands mid-run however slow the machine is.
      const target = before + 1 + Math.floor(Math.random() * (totalLines - before) * 0.4)
      targets.push(target)
      const run = await killAtLines(args, out, target)
      expect(run.signal, `run ${kill + 1} should be killed mid-run (targets ${targets})`).toBe('SIGKILL')
      // A killed run fetched every page it wrote, and at most the pages in flight besides. Pages
      // written before it were not among them (the final run below shows it exactly).
      const fetched = listRequests() - requested
      const wrote = pagesWritten(out) - written
      expect(fetched).toBeGreaterThanOrEqual(wrote)
      expect(fetched - wrote).toBeLessThanOrEqual(2 * CONCURRENCY)
    }

    const writtenBefore = pagesWritten(out)
    expect(writtenBefore).toBeGreaterThan(0)
    expect(writtenBefore).toBeLessThan(LISTS * PAGES)
    const requestedBefore = listRequests()
    const last = await runCli(args)
    expect(last.code, last.stderr).toBe(0)
    // The last run fetched exactly the pages not yet written: none twice, none already in the output.
    expect(listRequests() - requestedBefore).toBe(LISTS * PAGES - writtenBefore)

    const output = readOutput(out) as unknown as Line[]
    const items = output.filter((l) => l.item !== undefined)
    expect(items).toHaveLength(LISTS * PAGES * SIZE)
    for (let line = 1; line <= LISTS; line++) {
      const mine = items.filter((l) => l.index === line)
      // In order within the list, each once, each naming its page and place in it.
      expect(mine.map((l) => l.json!.n)).toEqual(Array.from({ length: PAGES * SIZE }, (_, n) => n))
      expect(mine.every((l) => l.json!.list === `k${line}` && l.page * SIZE + l.item! === l.json!.n)).toBe(
        true,
      )
      const pages = output.filter((l) => l.index === line && l.item === undefined)
      expect(pages.map((p) => p.page)).toEqual(Array.from({ length: PAGES }, (_, p) => p))
      expect(pages.at(-1)!.next).toBeNull()
    }
  }, 180_000)
})
