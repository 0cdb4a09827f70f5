/**
 * The loopback target of the HTTP benchmarks, run in its own process so that it does not share
 * the client's event loop: GET /json (a small fixed body) and GET /delay/<ms> (answers after ms).
 * GET /__stats answers what the server saw since the previous /__stats (see `serverStats`), so a
 * benchmark can tell its own latency from the server's. Started by `startBenchServer()`; prints
 * its port on stdout.
 */
import { spawn } from 'node:child_process'
import { get, createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { percentile } from './lib/stats.js'

const BODY = Buffer.from('{"id":1,"name":"volley","ok":true,"tags":["fast","polite"]}')

/**
 * What the server saw since `reset()`: connections that carried a request (not /__stats), and for
 * /delay/<ms> how much later than asked it answered (from its 'request' event to `res.end`: the
 * timer's lateness plus the server's own queueing), with its CPU and event-loop utilization.
 */
class ServerStats {
  #connections = new WeakSet()
  #count = 0
  #lateMs = []
  #cpu = process.cpuUsage()
  #elu = performance.eventLoopUtilization()

  sawRequest(socket) {
    if (this.#connections.has(socket)) return
    this.#connections.add(socket)
    this.#count++
  }

  answeredLate(ms) {
    this.#lateMs.push(ms)
  }

  /** The figures since the last reset, then resets. */
  take() {
    const cpu = process.cpuUsage(this.#cpu)
    const late = this.#lateMs.sort((a, b) => a - b)
    const figures = {
      serverConnections: this.#count,
      serverLateMeanMs: late.reduce((sum, ms) => sum + ms, 0) / (late.length || 1),
      serverLateP50Ms: percentile(late, 0.5),
      serverLateP99Ms: percentile(late, 0.99),
      serverCpuS: (cpu.user + cpu.system) / 1e6,
      serverElu: performance.eventLoopUtilization(this.#elu).utilization,
    }
    this.#connections = new WeakSet()
    this.#count = 0
    this.#lateMs = []
    this.#cpu = process.cpuUsage()
    this.#elu = performance.eventLoopUtilization()
    return figures
  }
}

function serve() {
  const stats = new ServerStats()
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    if (url === '/__stats') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(stats.take()))
      return
    }
    stats.sawRequest(req.socket)
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
      res.end(BODY)
    }
    if (!url.startsWith('/delay/')) return answer()
    const delay = Number(url.slice(7)) || 0
    const arrived = performance.now()
    setTimeout(() => {
      answer()
      stats.answeredLate(performance.now() - arrived - delay)
    }, delay)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
}

/** GET /__stats on its own short connection (never counted as one of the benchmark's). */
function serverStats(url) {
  return new Promise((resolve, reject) => {
    get(`${url}/__stats`, { agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve(JSON.parse(text)))
    }).once('error', reject)
  })
}

/**
 * Starts the server in a child process; resolves with its URL, a stop function and `stats()`,
 * which resolves with the server's figures since the previous call.
 */
export function startBenchServer() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.stdout.setEncoding('utf8')
    child.stdout.once('data', (line) => {
      const url = `http://127.0.0.1:${line.trim()}`
      resolve({ url, stop: () => child.kill(), stats: () => serverStats(url) })
    })
  })
}

if (process.argv.includes('--serve')) serve()
