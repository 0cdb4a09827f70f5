/**
 * `volley run` on a 1,000,000-line input against a fast local server: peak RSS must stay bounded
 * (target under 200 MB: the input is streamed, results are written as they come, resume state is a
 * bitset) and throughput is printed. The server is a minimal node:http child, so its memory is not
 * counted; the CLI runs in the measured process through `run(argv, io)`, exactly as bin.js runs it.
 * Baseline: the smallest hand-written equivalent (read lines, 64 undici workers, append JSON lines),
 * with no limiter, retries, redaction or resume: what the CLI's extra work costs.
 *
 *   npm run build && node bench/cli-memory.js            # 1,000,000 lines
 *   node bench/cli-memory.js --quick                      # 100,000 lines
 */
import { spawn } from 'node:child_process'
import {
  closeSync,
  createReadStream,
  createWriteStream,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { runBench } from './lib/bench.js'
import { runVolleyCli } from './lib/volley.js'

const CONCURRENCY = 64

const SERVER = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  const body = JSON.stringify({ id: req.url.slice(7), name: 'item', price: 9.99 })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
`

/** A node:http child on 127.0.0.1: port 0; resolves with its URL and a stop function. */
async function startServer() {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') }
}

/**
 * The input file of `lines` lines, written once by the parent and shared by every measurement: a
 * user's `volley run` (or loop) starts with its input on disk. Building it in the measured process
 * left a heap that promoted far more of the run's short-lived objects: volley's bytes promoted per
 * 200,000 requests went from 65 MB to 363 MB, and its CPU per request up by a tenth, while the
 * loop's stayed at 85 MB.
 */
const inputs = new Map()
function inputOf(lines) {
  let path = inputs.get(lines)
  if (path) return path
  // One name per size, so the results record the same params every run (a run stopped by Ctrl-C
  // leaves it for the next to write over).
  path = join(tmpdir(), `volley-cli-bench-input-${lines}.jsonl`)
  process.once('exit', () => rmSync(path, { force: true }))
  // Written in blocks: the writer must not hold a million lines either.
  const fd = openSync(path, 'w')
  for (let start = 1; start <= lines; start += 10_000) {
    let block = ''
    for (let i = start; i < Math.min(start + 10_000, lines + 1); i++) block += `/items/${i}\n`
    writeSync(fd, block)
  }
  closeSync(fd)
  inputs.set(lines, path)
  return path
}

/**
 * Result lines, streamed: reading the 90 MB output whole would itself become the process's peak
 * RSS. volley's output opens with its job line (`{"job":...}`), which is not a result.
 */
async function countResults(path) {
  let n = 0
  let first = true
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    if (first && chunk.subarray(0, 7).toString() === '{"job":') n--
    first = false
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++
  }
  return n
}

/** Starts the server, times `job` on the input, checks every line has a result. */
async function measure({ lines, input }, job) {
  const dir = mkdtempSync(join(tmpdir(), 'volley-cli-bench-'))
  const server = await startServer()
  try {
    const out = join(dir, 'out.jsonl')
    const started = performance.now()
    await job({ input, out, url: server.url })
    const elapsedS = (performance.now() - started) / 1000
    const written = await countResults(out)
    if (written !== lines) throw new Error(`expected ${lines} result lines, got ${written}`)
    return { lines, reqPerSec: lines / elapsedS, elapsedS }
  } finally {
    server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'volley run',
    kind: 'volley',
    run: (params) =>
      measure(params, async ({ input, out, url }) => {
        const code = await runVolleyCli([
          'run',
          input,
          '--base-url',
          url,
          '--out',
          out,
          '--quiet',
          '-c',
          String(CONCURRENCY),
        ])
        if (code !== 0) throw new Error(`volley run exited ${code}`)
      }),
  },
  {
    name: 'undici loop (no limiter, retries, resume)',
    kind: 'baseline',
    run: (params) =>
      measure(params, async ({ input, out, url }) => {
        const { Agent, request } = await import('undici')
        const dispatcher = new Agent({ connections: CONCURRENCY })
        const reader = createInterface({
          input: createReadStream(input),
          crlfDelay: Number.POSITIVE_INFINITY,
        })[Symbol.asyncIterator]()
        const output = createWriteStream(out)
        let index = 0
        let drained
        const worker = async () => {
          for (;;) {
            const next = await reader.next()
            if (next.done) return
            const line = ++index
            const res = await request(url + next.value, { dispatcher })
            const json = await res.body.json()
            if (!output.write(`${JSON.stringify({ index: line, status: res.statusCode, json })}\n`)) {
              // One 'drain' wait shared by the workers (one listener each would pile up 64 of them).
              drained ??= new Promise((resolve) =>
                output.once('drain', () => {
                  drained = undefined
                  resolve()
                }),
              )
              await drained
            }
          }
        }
        await Promise.all(Array.from({ length: CONCURRENCY }, worker))
        await new Promise((resolve) => output.end(resolve))
        await dispatcher.close()
      }),
  },
]

await runBench({
  name: 'cli-memory',
  title: `volley run on a large input against a local node:http server, concurrency ${CONCURRENCY}`,
  script: import.meta.url,
  packages: ['undici'],
  notes: [
    '- One fresh process per measurement; the server is another process (its memory is not counted)',
    '- The input is written once, by the parent, before any measurement; elapsed = from starting the job to the last result written; every line checked in the output',
  ],
  rounds: { normal: 1, quick: 1 },
  timeoutMs: 900_000,
  scenarios: [
    {
      name: 'lines',
      title: 'Plain URL lines `/items/N`, JSON responses of ~50 bytes',
      params: ({ quick }) => {
        const lines = quick ? 100_000 : 1_000_000
        return { lines, input: inputOf(lines) }
      },
    },
  ],
  contenders,
  columns: [
    { key: 'lines', label: 'input lines' },
    { key: 'reqPerSec', label: 'requests/s' },
    { key: 'elapsedS', label: 'elapsed (s)', digits: 1 },
    { key: 'peakRssMb', label: 'peak RSS (MB)' },
    { key: 'cpuS', label: 'CPU (s)', digits: 1 },
  ],
  ratios: [
    { key: 'reqPerSec', label: 'requests/s', better: 'higher' },
    { key: 'peakRssMb', label: 'peak RSS', better: 'lower' },
  ],
  targets: [
    {
      label: 'volley run requests/s at least 0.9× the undici loop',
      contender: 'volley run',
      key: 'reqPerSec',
      atLeast: { contender: 'undici loop (no limiter, retries, resume)', times: 0.9 },
    },
    { label: 'volley run peak RSS < 200 MB', contender: 'volley run', key: 'peakRssMb', atMost: 200 },
  ],
})
