/**
 * The run report on a big job: a 1,000,000-line results file (with start times and per-attempt
 * timings, as `volley run` writes them) -> `volley report` in a fresh process: the page's size, the
 * time to build it and the builder's peak RSS (the file is streamed twice, never held); then the
 * page opened in headless Chromium (Debian's, /usr/bin/chromium), each time in a fresh browser
 * process: the time from navigation to the load event and to the charts drawn. Targets: < 5 MB,
 * < 2 s to open.
 *
 *   npm run build && node bench/report-size.js           # 1,000,000 lines, 3 rounds
 *   node bench/report-size.js --quick                     # 100,000 lines, 1 round
 */
import { mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runInChild } from './lib/child.js'
import { describeEnvironment } from './lib/machine.js'
import { measureInChild } from './lib/spawn.js'
import { summarize } from './lib/stats.js'
import { runVolleyCli } from './lib/volley.js'

const SCRIPT = fileURLToPath(import.meta.url)
const T0 = Date.UTC(2026, 0, 5, 2, 0, 0)
/** Starts per second of the generated run: a million requests over ~83 minutes. */
const RATE = 200

/**
 * A deterministic run: 3% answered 429 then retried, 1% timing out twice and failing, 1% 404s, the
 * rest 200 with a small JSON body; attempt latencies 20-420 ms. Written in blocks of 10,000 lines.
 */
function writeResults(path, lines) {
  const fd = openSync(path, 'w')
  writeSync(fd, `${JSON.stringify({ job: 'bench-report-size' })}\n`)
  let block = ''
  for (let i = 1; i <= lines; i++) {
    const start = T0 + Math.floor((i * 1000) / RATE)
    const ms = 20 + ((i * 7919) % 400)
    const hash = (i * 2654435761).toString(16).padStart(16, '0').slice(-16)
    let line
    if (i % 100 === 7) {
      const tries = [
        { at: 0, wait: 3, rate: 3, ms: 30000, error: 'TIMEOUT' },
        { at: 30200, wait: 5, rate: 5, ms: 30000, error: 'TIMEOUT' },
      ]
      const error = { code: 'TIMEOUT', message: `GET https://api.example.com/items/${i}: no answer in 30s` }
      line = { id: i, index: i, hash, ok: false, status: null, attempts: 2, ms: 60205, start, tries, error }
    } else if (i % 100 === 13) {
      const error = {
        code: 'HTTP_ERROR',
        status: 404,
        message: `GET https://api.example.com/items/${i}: 404 Not Found`,
      }
      const tries = [{ at: 0, wait: 2, rate: 2, ms, status: 404 }]
      line = { id: i, index: i, hash, ok: false, status: 404, attempts: 1, ms: ms + 2, start, tries, error }
    } else {
      const refused = i % 100 < 3
      const tries = refused
        ? [
            { at: 0, wait: 1, rate: 1, ms: 15, status: 429 },
            { at: 1016, wait: 4, rate: 4, ms, status: 200 },
          ]
        : [{ at: 0, wait: 2, rate: 2, ms, status: 200 }]
      const json = { id: i, name: `item ${i}`, price: 9.99, tags: ['a', 'b'] }
      const total = refused ? 1020 + ms : ms + 2
      line = {
        id: i,
        index: i,
        hash,
        ok: true,
        status: 200,
        attempts: tries.length,
        ms: total,
        start,
        tries,
        json,
      }
    }
    block += `${JSON.stringify(line)}\n`
    if (i % 10_000 === 0 || i === lines) {
      writeSync(fd, block)
      block = ''
    }
  }
}

/** Child: `volley report` through run(argv, io), exactly as bin.js runs it. */
async function build({ results, out }) {
  const started = performance.now()
  const code = await runVolleyCli(['report', results, '-o', out])
  if (code !== 0) throw new Error(`volley report exited ${code}`)
  return { buildS: (performance.now() - started) / 1000 }
}

/** Child: a fresh headless Chromium opens the page; timed from navigation to the load event and to the charts drawn. */
async function open({ out }) {
  const { launchChromium } = await import('./lib/chromium.js')
  const { context, close } = await launchChromium()
  try {
    const page = await context.newPage()
    const requests = []
    page.on('request', (r) => requests.push(r.url()))
    const started = performance.now()
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' })
    const loadS = (performance.now() - started) / 1000
    // The chart script sets data-charts once uPlot has drawn them all; a frame later they are on
    // screen. (Strings: they run in the page, where document and requestAnimationFrame exist.)
    await page.waitForFunction("document.body.dataset.charts === '5'")
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)))')
    const drawnS = (performance.now() - started) / 1000
    if (requests.length !== 1) throw new Error(`the page made requests: ${requests.join(', ')}`)
    return { loadS, drawnS }
  } finally {
    await close()
  }
}

const CHILDREN = { build, open }

async function main() {
  const quick = process.argv.includes('--quick')
  const lines = quick ? 100_000 : 1_000_000
  const rounds = quick ? 1 : 3
  const dir = mkdtempSync(join(tmpdir(), 'volley-report-bench-'))
  try {
    const results = join(dir, 'results.jsonl')
    const out = join(dir, 'results.report.html')
    writeResults(results, lines)
    const builds = []
    const opens = []
    for (let round = 0; round < rounds; round++) {
      builds.push(await measureInChild(SCRIPT, 'build', { results, out }))
      opens.push(await measureInChild(SCRIPT, 'open', { out }))
    }
    const failed = [...builds, ...opens].find((f) => f.failed)
    if (failed) throw new Error(failed.failed)
    const cell = (list, key, digits) => {
      const { median, min, max } = summarize(list.map((f) => f[key]))
      return `${median.toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})`
    }
    const sizeMb = statSync(out).size / 1e6
    console.log(`# report-size: volley report on a ${lines.toLocaleString('en')}-line results file`)
    console.log(describeEnvironment(['uplot', 'playwright-core']).join('\n'))
    console.log(
      `- Results file ${(statSync(results).size / 1e6).toFixed(0)} MB; median (min–max) of ${rounds} round(s)\n`,
    )
    console.log('| figure | value | target |')
    console.log('| --- | --- | --- |')
    console.log(`| report size (MB) | ${sizeMb.toFixed(2)} | < 5 |`)
    console.log(`| build time (s) | ${cell(builds, 'buildS', 2)} | |`)
    console.log(`| builder peak RSS (MB) | ${cell(builds, 'peakRssMb', 0)} | |`)
    console.log(`| open: load event (s) | ${cell(opens, 'loadS', 2)} | |`)
    console.log(`| open: charts drawn (s) | ${cell(opens, 'drawnS', 2)} | < 2 |`)
    if (sizeMb >= 5) process.exitCode = 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const child = process.argv.indexOf('--child')
if (child !== -1) {
  const params = JSON.parse(process.argv[process.argv.indexOf('--params') + 1])
  await runInChild(CHILDREN[process.argv[child + 1]], params)
} else await main()
