import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createClient } from '../../src/http/client.js'
import type { ClientError } from '../../src/http/errors.js'
import { type TinyServer, tinyServer } from './helpers.js'

// A redirect volley does not follow is an error of its own, never a silent 3xx "success".
let other: TinyServer
let server: TinyServer
beforeAll(async () => {
  other = await tinyServer((_req, res) => res.end('other'))
  server = await tinyServer((req, res) => {
    const to = (location: string, status = 302) => res.writeHead(status, { location }).end()
    switch (req.url) {
      case '/loop':
        return to('/loop')
      case '/file':
        return to('file:///etc/passwd')
      case '/data':
        return to('data:text/plain,hi')
      case '/nowhere':
        return res.writeHead(301).end()
      case '/bad':
        return to('http://[not a host')
      case '/post-away':
        return to(`${other.url}/landing?token=SECRET-TOKEN`, 307)
      case '/post-home':
        return to('/landing', 307)
      default:
        return res.end(`landed ${req.method}`)
    }
  })
})
afterAll(async () => {
  await server.close()
  await other.close()
})

async function failure(promise: Promise<unknown>): Promise<ClientError> {
  return (await promise.then(
    () => {
      throw new Error('resolved')
    },
    (e: unknown) => e,
  )) as ClientError
}

describe('redirects not followed', () => {
  test.each([
    ['/loop', 'too-many', /redirected more than maxRedirects times/],
    ['/file', 'scheme', /not http\(s\) \(302 to file:\/\/\/etc\/passwd\)/],
    ['/data', 'scheme', /not http\(s\)/],
    ['/nowhere', 'no-location', /without a Location header \(301\)/],
    ['/bad', 'invalid-location', /not a URL/],
  ])('%s is a RedirectError (%s), sent once', async (path, reason, message) => {
    await using api = createClient({ baseUrl: server.url, maxRedirects: 3 })
    const before = server.seen.length
    const error = await failure(api.get(path))
    expect(error).toMatchObject({ code: 'REDIRECT', reason, attempts: 1 })
    expect(error.message).toMatch(message)
    // One attempt, its hops included: a refused redirect is not retried.
    expect(server.seen.length - before).toBe(path === '/loop' ? 4 : 1)
  })

  test('in all(), a redirect not followed is a failed result, not ok', async () => {
    await using api = createClient({ baseUrl: server.url })
    const [result] = await api.all(['/file'])
    expect(result!.ok).toBe(false)
    expect(!result!.ok && result!.error.code).toBe('REDIRECT')
  })

  test('a 307 that would re-send a POST body to another origin is refused; the URL shown is redacted', async () => {
    await using api = createClient({ baseUrl: server.url })
    const seen = other.seen.length
    const error = await failure(api.post('/post-away', { json: { amount: 100 } }))
    expect(error).toMatchObject({ code: 'REDIRECT', reason: 'cross-origin-body', status: 307 })
    expect(error.message).not.toContain('SECRET-TOKEN')
    expect(other.seen.length).toBe(seen)
    // Within the origin the body follows, as 307 asks.
    expect((await api.post('/post-home', { json: { amount: 1 } })).text()).toBe('landed POST')
  })

  test('maxRedirects: 0 asks for the 3xx itself: it is the Response', async () => {
    await using api = createClient({ baseUrl: server.url, maxRedirects: 0 })
    const response = await api.get('/file')
    expect(response.status).toBe(302)
    expect(response.headers.location).toBe('file:///etc/passwd')
  })
})
