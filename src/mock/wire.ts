import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import {
  constants as h2,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { Server } from 'node:net'
import type { ResolvedMockOptions } from './options.js'

/**
 * The few places where HTTP/1.1 and HTTP/2 differ for the mock. node's http2 compatibility API
 * gives requests and responses shaped like node:http's, so everything else handles both alike.
 */
export type MockRequest = IncomingMessage | Http2ServerRequest
export type MockResponse = ServerResponse | Http2ServerResponse

/**
 * The server for the options: plain HTTP/1.1; with `tls`, HTTPS; with `http2` too, HTTP/2 by ALPN
 * with HTTP/1.1 still served to clients that do not offer h2.
 */
export function createWireServer(
  options: ResolvedMockOptions,
  handle: (req: MockRequest, res: MockResponse) => void,
): Server {
  const { tls } = options
  if (!tls) return createHttpServer(handle)
  if (!options.http2) return createHttpsServer(tls, handle)
  return createSecureServer({ ...tls, allowHTTP1: true }, handle)
}

/**
 * Ends a request without a response, the way a failing server does on each protocol. HTTP/1.1:
 * the connection is destroyed. HTTP/2: the stream is reset (RST_STREAM INTERNAL_ERROR), as nginx
 * or Envoy do when the upstream behind one request fails; the session and its other streams
 * carry on, so one fault still breaks exactly one request.
 */
export function dropRequest(req: MockRequest): void {
  if ('stream' in req) req.stream.close(h2.NGHTTP2_INTERNAL_ERROR)
  else req.socket.destroy()
}

/** True once nothing more can be written: the connection (HTTP/1.1) or the stream (HTTP/2) is gone. */
export function responseGone(res: MockResponse): boolean {
  return 'stream' in res ? res.stream.destroyed : res.destroyed
}
