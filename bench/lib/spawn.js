/** The parent side of a measurement: start a contender in a fresh Node process and read its figures. */
import { spawn } from 'node:child_process'
import { RESULT_PREFIX } from './child.js'

/**
 * Runs `node <script> --child <name> --params <json>` and resolves with the figures it printed,
 * or with `{ failed: reason }` when it crashed, timed out or printed none (one bad run must not
 * lose the other contenders' figures).
 *
 * @param {string} script path of the benchmark script
 * @param {string} name contender name
 * @param {unknown} params JSON-serializable parameters
 * @param {{ timeoutMs?: number, nodeArgs?: string[], env?: Record<string, string> }} [options]
 * @returns {Promise<Record<string, any>>}
 */
export function measureInChild(script, name, params, options = {}) {
  const { timeoutMs = 300_000, nodeArgs = [], env } = options
  const args = [...nodeArgs, script, '--child', name, '--params', JSON.stringify(params)]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: env ? { ...process.env, ...env } : process.env,
    })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.split('\n').findLast((l) => l.startsWith(RESULT_PREFIX))
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)))
      else if (signal) resolve({ failed: `killed by ${signal} (timeout ${timeoutMs} ms?)` })
      else resolve({ failed: `exit code ${code}${line ? '' : ', no result line'}` })
    })
  })
}
