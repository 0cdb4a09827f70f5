/**
 * volley's mock API (`volley/mock`, always this checkout's build) in a process of its own, so the
 * client under measurement does not share its event loop: the server's arrival stamps and its
 * admissions are not delayed by the client's work, nor the client by the server's. Driven over IPC:
 * the options go in, the URL comes back, and `report()` asks for what the server saw.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { importOwnBuild } from './volley.js'

const self = fileURLToPath(import.meta.url)

/**
 * Starts the mock with `options` (JSON-serialisable: a profile, a seed, `recordArrivals`...) in a
 * child process; resolves with its URL, `report()` (its stats, and its arrival times when it
 * records them, in ms of the server's own clock) and `close()`.
 * @param {Record<string, unknown>} options
 */
export function startMockProcess(options) {
  const child = fork(self, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const reply = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type !== type) return
        child.off('message', onMessage)
        child.off('exit', onExit)
        if (message.error) reject(new Error(`mock process: ${message.error}`))
        else resolve(message)
      }
      const onExit = (code) => reject(new Error(`mock process exited (code ${code}) before its ${type}`))
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
  const ask = (type, fields = {}) => {
    const answer = reply(type)
    child.send({ type, ...fields })
    return answer
  }
  return ask('start', { options }).then(({ url }) => ({
    url,
    /** @returns {Promise<{ stats: import('../../dist/mock/index.js').MockStats, arrivals?: import('../../dist/mock/index.js').MockArrivals }>} */
    report: () => ask('report'),
    close: async () => {
      child.send({ type: 'close' })
      await exited
    },
  }))
}

/** The child's side: one mock server, answering the parent's messages until told to close. */
async function serve() {
  const { startMockServer } = await importOwnBuild('mock/index.js')
  let server
  process.on('message', async (message) => {
    try {
      if (message.type === 'start') {
        server = await startMockServer(message.options)
        process.send({ type: 'start', url: server.url })
      } else if (message.type === 'report') {
        const arrivals = server.options.recordArrivals ? server.arrivals() : undefined
        process.send({ type: 'report', stats: server.stats(), arrivals })
      } else if (message.type === 'close') {
        await server?.close()
        process.disconnect()
      }
    } catch (error) {
      process.send({ type: message.type, error: String(error?.stack ?? error) })
    }
  })
}

if (process.argv[1] === self && process.argv.includes('--serve')) await serve()
