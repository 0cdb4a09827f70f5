import { connect as connectTcp, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { Agent } from 'undici'
import { afterAll, describe, expect, test } from 'vitest'
import { describeMockServer, type MockServer, startMockServer } from '../../src/mock/index.js'
import { testTls } from '../fixtures/tls.js'
import { call } from './client.js'

/**
 * connectDelay holds each new connection before serving it. Every timing assertion is a lower
 * bound from performance.now() on both sides (the server runs in this process): nothing arrives
 * before the delay has passed since the client began connecting. None bounds how late it may be.
 */

const DELAY = 150
const trust = { ca: testTls.cert }
/** One HTTP/1.1 connection, kept alive. */
const h1 = new Agent({ connect: trust, connections: 1 })
/** One HTTP/2 session. */
const h2 = new Agent({ allowH2: true, connections: 1, connect: trust })
afterAll(() => Promise.all([h1.close(), h2.close()]))

/** Resolves with performance.now() at the event that says the client's socket is ready. */
function opened(socket: Socket, event: 'connect' | 'secureConnect'): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => resolve(performance.now()))
    socket.once('error', reject)
  })
}

function firstArrival(server: MockServer): number {
  const [first] = server.arrivals().all
  expect(first).toBeDefined()
  return first!
}

describe('mock connectDelay', () => {
  test('over tls the client handshake waits out the delay, and so does its first request', async () => {
    await using server = await startMockServer({ tls: testTls, connectDelay: DELAY, recordArrivals: true })
    const began = performance.now()
    const socket = connectTls({ host: '127.0.0.1', port: server.port, ...trust })
    const secured = await opened(socket, 'secureConnect')
    expect(secured - began).toBeGreaterThanOrEqual(DELAY)
    // The server held the connection: it counted it but no request came through it yet.
    expect(server.stats()).toMatchObject({ connections: 1, requests: 0 })
    socket.end('GET /json HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n')
    const reply = await new Promise<string>((resolve) => {
      let text = ''
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
      socket.once('close', () => resolve(text))
    })
    expect(reply).toMatch(/^HTTP\/1.1 200 /)
    expect(firstArrival(server) - began).toBeGreaterThanOrEqual(DELAY)
  })

  test('over plain http the socket connects at once; what it sends waits for the delay', async () => {
    await using server = await startMockServer({ connectDelay: DELAY, recordArrivals: true })
    const began = performance.now()
    const socket = connectTcp({ host: '127.0.0.1', port: server.port })
    await opened(socket, 'connect')
    socket.write('GET /json HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')
    await new Promise((resolve) => socket.once('data', resolve))
    socket.destroy()
    expect(firstArrival(server) - began).toBeGreaterThanOrEqual(DELAY)
    expect(server.stats()).toMatchObject({ connections: 1, requests: 1, byStatus: { 200: 1 } })
  })

  test('only a new connection waits: keep-alive requests reuse it', async () => {
    await using server = await startMockServer({ tls: testTls, connectDelay: DELAY, recordArrivals: true })
    expect(describeMockServer(server)).toMatch(/connect delay 150ms/)
    const began = performance.now()
    for (let i = 0; i < 3; i++)
      expect((await call(`${server.url}/items/${i}`, { dispatcher: h1 })).status).toBe(200)
    expect(firstArrival(server) - began).toBeGreaterThanOrEqual(DELAY)
    expect(server.stats()).toMatchObject({ connections: 1, requests: 3 })
  })

  test('with http2 the session waits out the delay, then multiplexes as usual', async () => {
    await using server = await startMockServer({
      tls: testTls,
      http2: true,
      connectDelay: DELAY,
      recordArrivals: true,
    })
    const began = performance.now()
    const replies = await Promise.all(
      Array.from({ length: 5 }, () => call(`${server.url}/anything`, { dispatcher: h2 })),
    )
    expect(replies.map((r) => r.json.httpVersion)).toEqual(Array(5).fill('2.0'))
    expect(firstArrival(server) - began).toBeGreaterThanOrEqual(DELAY)
    expect(server.stats()).toMatchObject({ connections: 1, requests: 5 })
  })

  // A held socket is paused, so nothing is read from it, not even its close: a client that leaves
  // during the hold is let go when the hold ends.
  test('a client that leaves during the hold is let go when the hold ends, without harm', async () => {
    await using server = await startMockServer({ connectDelay: DELAY })
    const gone = connectTcp({ host: '127.0.0.1', port: server.port })
    await opened(gone, 'connect')
    await expect.poll(() => server.stats().connections).toBe(1)
    gone.resetAndDestroy()
    await expect.poll(() => server.stats().openConnections).toBe(0)
    expect((await call(`${server.url}/json`)).status).toBe(200)
  })

  test('close() ends the connections still held', async () => {
    const server = await startMockServer({ connectDelay: '10s' })
    const held = connectTcp({ host: '127.0.0.1', port: server.port })
    const closed = new Promise((resolve) => held.once('close', resolve))
    await opened(held, 'connect')
    await expect.poll(() => server.stats().openConnections).toBe(1)
    await server.close()
    await closed
    expect(server.stats()).toMatchObject({ openConnections: 0, connections: 1, requests: 0 })
  })
})
