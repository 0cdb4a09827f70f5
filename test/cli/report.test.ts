import { existsSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserAvailable, launchChromium, openReport } from './browser.js'
import { cliFixture, type OutputLine, readOutput, runCli } from './helpers.js'
import { record, timedRecords, writeResults } from './report-fixture.js'

// The HTML report, end to end: written by the built CLI, opened in headless Chromium (Debian's).

const TOKEN = 'tok-report-5f4e3d2c1b0a'
const API_KEY = 'key-report-9a8b7c6d'
const fixture = cliFixture({
  rate: { limit: 40, interval: 1000 },
  latency: { min: 2, max: 12 },
  faults: { 500: 0.05, 503: 0.03, reset: 0.03 },
  seed: 14,
  auth: TOKEN,
})

let browser: { context: BrowserContext; close(): Promise<void> } | undefined
beforeAll(async () => {
  if (browserAvailable()) browser = await launchChromium()
})
afterAll(() => browser?.close())

/** The page's figure, as shown. */
const figure = (page: Page, key: string) => page.textContent(`[data-figure="${key}"]`)

/** What the page must show for these results: total, ok, failed, and each status (or error code) count. */
async function expectFiguresOf(page: Page, lines: readonly OutputLine[]): Promise<void> {
  const statuses = new Map<string, number>()
  for (const l of lines) {
    const key = l.status !== null ? String(l.status) : l.error!.code
    statuses.set(key, (statuses.get(key) ?? 0) + 1)
  }
  expect(await figure(page, 'total')).toBe(String(lines.length))
  expect(await figure(page, 'ok')).toBe(String(lines.filter((l) => l.ok).length))
  expect(await figure(page, 'failed')).toBe(String(lines.filter((l) => !l.ok).length))
  const shown = await page.$$eval('[data-status]', (cells) =>
    cells.map((c) => [c.getAttribute('data-status'), Number(c.textContent)]),
  )
  expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(statuses))
}

/** The uPlot canvases on the page, with their drawn size. */
function canvases(page: Page): Promise<{ width: number; height: number }[]> {
  // Canvas elements, typed here without the DOM library: width and height are their drawn size.
  return page.$$eval('.uplot canvas', (list) =>
    list
      .map((c) => c as unknown as { width: number; height: number })
      .map(({ width, height }) => ({ width, height })),
  )
}

describe.runIf(browserAvailable())('the run report in headless Chromium', () => {
  it('volley run --report against a rate-limited API with faults: the page renders, its numbers match the results file, it loads nothing and holds no secret', async () => {
    const { mock, tmp } = fixture
    const input = tmp.file(
      'live.jsonl',
      [
        ...Array.from({ length: 120 }, (_, i) => `"/items/${i + 1}"`),
        '"/status/404"',
        // A secret in a URL: the error's message names the URL, and the page must not show it.
        `"/status/404?note=${API_KEY}"`,
        '{"url": ',
      ].join('\n'),
    )
    const out = `${tmp.dir}/live.results.jsonl`
    const secrets = ['--header-env', 'Authorization: Bearer $TOKEN', '-H', `X-Api-Key: ${API_KEY}`]
    const limits = ['--rate', '30/s', '--retries', '1']
    const run = await runCli(
      ['run', input, '--base-url', mock.url, '--out', out, ...limits, ...secrets, '--report'],
      {
        env: { TOKEN },
      },
    )
    // The 404s and the broken line fail; faults a retry did not get past may too.
    expect(run.code, run.stderr).toBe(1)
    const report = `${tmp.dir}/live.results.report.html`
    expect(run.stderr).toContain(`volley: the report is in ${report}`)
    const html = readFileSync(report, 'utf8')
    expect(html).not.toContain(TOKEN)
    expect(html).not.toContain(API_KEY)

    const lines = readOutput(out)
    expect(lines).toHaveLength(123)
    expect(readFileSync(out, 'utf8')).not.toContain(API_KEY)
    const opened = await openReport(browser!.context, report)
    await expectFiguresOf(opened.page, lines)
    expect(
      await opened.page.textContent('[data-error="INVALID_INPUT"], [data-error="INVALID_REQUEST"]'),
    ).toBe('1')
    expect(await opened.page.textContent('body')).toContain('given (--rate): 30/1s')
    expect(await opened.page.getAttribute('body', 'data-charts')).toBe('5')
    const drawn = await canvases(opened.page)
    expect(drawn).toHaveLength(5)
    for (const c of drawn) expect(c.width * c.height).toBeGreaterThan(0)
    // The charts' data count every attempt the results file records, once.
    const series = (await opened.page.evaluate('series')) as { widthMs: number; sent: number[] }
    const sent = Math.round(series.sent.reduce((sum, v) => sum + (v * series.widthMs) / 1000, 0))
    const tries = lines.reduce((sum, l) => sum + ((l as { tries?: unknown[] }).tries?.length ?? 0), 0)
    expect(sent).toBe(tries)
    expect(opened.requests).toEqual([pathToFileURL(report).href])
    expect(opened.errors).toEqual([])
    await opened.close()
    // After the fact, the run's --rate comes from the results file's first line.
    const first = JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!) as unknown
    expect(first).toEqual({ job: expect.any(String), rate: ['30/1s'] })
    const later = await runCli(['report', out, '-o', `${tmp.dir}/later.html`])
    expect(later.code, later.stderr).toBe(0)
    expect(readFileSync(`${tmp.dir}/later.html`, 'utf8')).toContain('given (--rate): 30/1s')
  })

  it('volley report on a file with per-attempt timings draws five uPlot charts whose data add up to the file', async () => {
    const { tmp } = fixture
    const records = timedRecords(400)
    const results = writeResults(`${tmp.dir}/timed.jsonl`, records)
    const run = await runCli(['report', results, '--rate', '20/s'])
    const report = `${tmp.dir}/timed.report.html`
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toBe(`volley: the report of 400 result(s) is in ${report}\n`)

    const opened = await openReport(browser!.context, report)
    expect(await opened.page.getAttribute('body', 'data-charts')).toBe('5')
    const drawn = await canvases(opened.page)
    expect(drawn).toHaveLength(5)
    for (const c of drawn) expect(c.width * c.height).toBeGreaterThan(0)
    // The series the charts were drawn from (the page's own data) count every attempt once.
    // `series` is the page script's top-level const: a global binding, not a property of window.
    const series = (await opened.page.evaluate('series')) as {
      widthMs: number
      sent: number[]
      requests: number[]
      given: number
    }
    // The limit drawn against the starts: the --rate given, per second.
    expect(series.given).toBe(20)
    const total = (values: number[]) =>
      Math.round(values.reduce((sum, v) => sum + (v * series.widthMs) / 1000, 0))
    const sums = { sent: total(series.sent), requests: total(series.requests) }
    const attempts = records.reduce((sum, r) => sum + r.tries!.length, 0)
    expect(sums).toEqual({ sent: attempts, requests: 400 })
    expect(await figure(opened.page, 'attempts')).toBe(String(attempts))
    expect(opened.requests).toEqual([pathToFileURL(report).href])
    expect(opened.errors).toEqual([])
    await opened.close()
  })

  it('volley report on an older results file (no start times, no per-attempt timings) shows the summary and the errors, and says why there are no charts', async () => {
    const { tmp } = fixture
    const old = [
      record({ index: 1, ms: 40 }),
      record({ index: 2, ms: 55 }),
      record({
        index: 3,
        ok: false,
        status: 503,
        attempts: 4,
        ms: 900,
        error: { code: 'HTTP_ERROR', message: 'GET /x: 503' },
      }),
      record({
        index: 4,
        ok: false,
        status: null,
        ms: 30_000,
        error: { code: 'TIMEOUT', message: 'timed out' },
      }),
    ]
    const results = writeResults(`${tmp.dir}/old.jsonl`, old)
    const run = await runCli(['report', results, '-o', `${tmp.dir}/old.html`])
    expect(run.code, run.stderr).toBe(0)
    const opened = await openReport(browser!.context, `${tmp.dir}/old.html`)
    await expectFiguresOf(opened.page, old as OutputLine[])
    expect(await figure(opened.page, 'retries')).toBe('3')
    expect(await opened.page.isVisible('#no-series')).toBe(true)
    expect(await canvases(opened.page)).toEqual([])
    expect(await opened.page.textContent('[data-error="HTTP_ERROR"]')).toBe('1')
    expect(opened.requests).toHaveLength(1)
    expect(opened.errors).toEqual([])
    await opened.close()
  })
})

describe('volley run --report', () => {
  it('writes the report after a --fail-fast stop too, counting what the results file holds', async () => {
    const lines = ['"/status/404"', ...Array.from({ length: 30 }, (_, i) => `"/items/${i + 1}"`)]
    const input = fixture.tmp.file('stop.jsonl', `${lines.join('\n')}\n`)
    const out = `${fixture.tmp.dir}/stop.results.jsonl`
    const report = `${fixture.tmp.dir}/stopped.html`
    const args = [
      '--out',
      out,
      '--fail-fast',
      '--concurrency',
      '1',
      '--header-env',
      'Authorization: Bearer $TOKEN',
    ]
    const run = await runCli(['run', input, '--base-url', fixture.mock.url, ...args, `--report=${report}`], {
      env: { TOKEN },
    })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toContain('--fail-fast')
    expect(run.stderr).toContain(`volley: the report is in ${report}`)
    const written = readOutput(out)
    expect(written.length).toBeLessThan(lines.length)
    const html = readFileSync(report, 'utf8')
    expect(html).toContain(`data-figure="total">${written.length}<`)
    expect(html).toContain(`data-figure="failed">${written.filter((l) => !l.ok).length}<`)
    expect(html).not.toContain(TOKEN)
  })

  it('says nothing of the report with --quiet, and writes it all the same', async () => {
    const input = fixture.tmp.file('quiet.jsonl', '"/items/1"\n')
    const out = `${fixture.tmp.dir}/quiet.results.jsonl`
    const args = ['--out', out, '--quiet', '--header-env', 'Authorization: Bearer $TOKEN', '--report']
    const run = await runCli(['run', input, '--base-url', fixture.mock.url, ...args], { env: { TOKEN } })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    expect(existsSync(`${fixture.tmp.dir}/quiet.results.report.html`)).toBe(true)
  })
})

describe('report usage', () => {
  it('--report with --out - is refused before anything is sent, naming both flags', async () => {
    const input = fixture.tmp.file('stdout.jsonl', '"/items/1"\n')
    const before = fixture.mock.stats().requests
    const run = await runCli(['run', input, '--base-url', fixture.mock.url, '--out', '-', '--report'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--report .*--out -/)
    expect(fixture.mock.stats().requests).toBe(before)
  })

  it('volley report refuses a file that is not a volley results file, and one that does not exist', async () => {
    const notOurs = fixture.tmp.file('notes.txt', 'hello\nworld\n')
    const run = await runCli(['report', notOurs])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('is not a volley results file')
    expect(existsSync(`${fixture.tmp.dir}/notes.report.html`)).toBe(false)
    const missing = await runCli(['report', `${fixture.tmp.dir}/nope.jsonl`])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('does not exist')
    const results = writeResults(`${fixture.tmp.dir}/rated.jsonl`, [record({ index: 1 })])
    const badRate = await runCli(['report', results, '--rate', 'fast'])
    expect(badRate.code).toBe(2)
    expect(badRate.stderr).toMatch(/--rate/)
  })
})
