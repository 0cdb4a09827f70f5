/**
 * Redis for the job benchmarks: a private `redis-server` (loopback, no persistence, a free port)
 * started by the benchmark, so that the server's command counters hold only what the benchmark's
 * processes sent; and those counters, read with INFO, as round trips and commands per line.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** A loopback port nothing listens on (bound, then closed). */
async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Starts `redis-server` on a free loopback port; resolves with its URL and `close()` (which ends
 * that process, by its pid). Rejects when redis-server is not installed or does not start.
 */
export async function startPrivateRedis() {
  const port = await freePort()
  const child = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxclients',
      '10000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk) => {
      output += chunk
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData)
        resolve()
      }
    }
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', onData)
    child.once('error', reject)
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready: ${output}`)),
    )
  })
  child.stdout.resume()
  child.stderr.resume()
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/**
 * Commands a client sends itself, never from inside a script: one call is one round trip. Every
 * other command counted by Redis (HSET, XREADGROUP...) ran inside a script (or was this benchmark's
 * own polling, counted separately).
 */
const TOP_LEVEL =
  /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro|script|client|hello|select|auth|ping|info|quit|command|subscribe|unsubscribe|psubscribe|punsubscribe)(\||$)/

/** `INFO stats commandstats cpu`: total_commands_processed, the calls of each command, Redis's CPU seconds. */
export async function readCounters(client) {
  const text = await client.info('stats', 'commandstats', 'cpu')
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? Number.NaN)
  const calls = {}
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[name] = Number(count)
  return {
    total: field('total_commands_processed'),
    cpuS: field('used_cpu_user') + field('used_cpu_sys'),
    calls,
  }
}

/**
 * What Redis did between two readings, less what the benchmark's own client sent (`own`: its
 * commands, of which `ownInfo` were INFO): round trips (calls of TOP_LEVEL commands: EVALSHA,
 * EVAL, SCRIPT LOAD, the connection's INFO and CLIENT...) and commands (total_commands_processed,
 * which counts every command a script ran as well) and Redis's CPU time (user + system, all of it:
 * the benchmark's own few commands included).
 */
export function countersBetween(before, after, { own = 0, ownInfo = 0 } = {}) {
  let roundTrips = 0
  const byCommand = {}
  for (const [name, count] of Object.entries(after.calls)) {
    const delta = count - (before.calls[name] ?? 0)
    if (delta === 0) continue
    byCommand[name] = delta
    if (TOP_LEVEL.test(name)) roundTrips += delta
  }
  // The INFO of the first reading shows up in the second: it is the benchmark's, not the workers'.
  return {
    roundTrips: roundTrips - ownInfo,
    commands: after.total - before.total - own,
    cpuS: after.cpuS - before.cpuS,
    byCommand,
  }
}

/**
 * An ioredis client that counts the commands it sends (for `countersBetween`'s `own`).
 * @param {string} url
 */
export async function countingClient(url) {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  const counts = { all: 0, info: 0 }
  const send = client.sendCommand.bind(client)
  client.sendCommand = (command, stream) => {
    counts.all++
    if (command.name === 'info') counts.info++
    return send(command, stream)
  }
  await client.ping()
  return { client, counts }
}
