import { AsyncLocalStorage } from 'node:async_hooks'
import diagnostics from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { tinyServer, type TinyServer } from './helpers.js'

let server: TinyServer
// The first attempt of /flaky/* answers 503, so each such request is retried.
const tried = new Set<string>()

beforeAll(async () => {
  server = await tinyServer((req, res) => {
    const url = req.url ?? ''
    if (url.startsWith('/flaky/') && !tried.has(url)) {
      tried.add(url)
      res.writeHead(503, { 'retry-after': '0' }).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
})
afterAll(() => server.close())

describe('async context through the client', () => {
  it('dispatches every attempt of a queued request in its caller’s context, as tracing needs', async () => {
    const storage = new AsyncLocalStorage<string>()
    // What an undici instrumentation (OpenTelemetry's) sees: the context at each dispatch.
    const dispatched: { path: string; context: string | undefined }[] = []
    const onCreate = (message: unknown) => {
      const { request } = message as { request: { path: string } }
      dispatched.push({ path: request.path, context: storage.getStore() })
    }
    diagnostics.subscribe('undici:request:create', onCreate)
    try {
      const api = createClient({ baseUrl: server.url, concurrency: 1, retry: 2 })
      const names = ['a', 'b', 'c', 'd', 'e']
      await Promise.all(
        names.map((name) => storage.run(name, () => api.get(`/${name === 'c' ? 'flaky' : 'plain'}/${name}`))),
      )
      await api.close()
      const expected = names.flatMap((name) =>
        name === 'c' ? [`/flaky/${name}`, `/flaky/${name}`] : [`/plain/${name}`],
      )
      expect(dispatched.map((d) => d.path).sort()).toEqual(expected.sort())
      for (const { path, context } of dispatched) expect(context).toBe(path.split('/')[2])
    } finally {
      diagnostics.unsubscribe('undici:request:create', onCreate)
    }
  })
})
