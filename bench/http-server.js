/**
 * The loopback target of the HTTP benchmarks, run in its own process so that it does not share
 * the client's event loop: GET /json (a small fixed body) and GET /delay/<ms> (answers after ms).
 * Started by `startBenchServer()`; prints its port on stdout.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'

const BODY = Buffer.from('{"id":1,"name":"volley","ok":true,"tags":["fast","polite"]}')

function serve() {
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length })
      res.end(BODY)
    }
    if (url.startsWith('/delay/')) setTimeout(answer, Number(url.slice(7)) || 0)
    else answer()
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
}

/** Starts the server in a child process; resolves with its URL and a stop function. */
export function startBenchServer() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.stdout.setEncoding('utf8')
    child.stdout.once('data', (line) => {
      resolve({ url: `http://127.0.0.1:${line.trim()}`, stop: () => child.kill() })
    })
  })
}

if (process.argv.includes('--serve')) serve()
