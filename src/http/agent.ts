import type { TLSSocket } from 'node:tls'
import { Agent, type buildConnector, Client, Pool } from 'undici'
import type { ClientTlsOptions } from './tls-options.js'

/** Streams at once on one HTTP/2 connection: undici's default SETTINGS_MAX_CONCURRENT_STREAMS. */
const H2_STREAMS = 100

export interface AgentSettings {
  connections: number | undefined
  http2: boolean
  tls: ClientTlsOptions | undefined
}

/** The undici Agent a client owns: keep-alive connections per origin, TLS settings, HTTP/2 by ALPN when asked. */
export function createAgent({ connections, http2, tls }: AgentSettings): Agent {
  return new Agent({
    connections: connections ?? null,
    allowH2: http2,
    // No HTTP/1.1 pipelining: one request at a time per connection.
    pipelining: 1,
    connect: tls,
    ...(http2 ? { factory: multiplexingPool } : undefined),
  })
}

function multiplexingPool(origin: string | URL, options: object): Pool {
  return new Pool(origin, { ...options, factory: multiplexingClient })
}

/**
 * undici 7 runs at most `pipelining` requests at once on a connection, HTTP/2 included, and only 1
 * is safe for HTTP/1.1. So the depth is set per connection once ALPN has chosen: up to H2_STREAMS
 * multiplexed streams on h2, one request at a time on HTTP/1.1 (a server that declined h2).
 */
function multiplexingClient(origin: URL, options: Client.Options): Client {
  const connect = options.connect as buildConnector.connector
  let h2 = false
  const client = new Client(origin, {
    ...options,
    connect: (connectOptions, callback) =>
      connect(connectOptions, (...result: Parameters<buildConnector.Callback>) => {
        h2 = (result[1] as TLSSocket | null)?.alpnProtocol === 'h2'
        callback(...result)
      }),
  })
  client.on('connect', () => {
    client.pipelining = h2 ? H2_STREAMS : 1
  })
  return client
}
