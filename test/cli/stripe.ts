import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StripeServer {
  url: string
  /** The orders created, in order: the body each was created from. */
  created: unknown[]
  /** Responses replayed for a repeated Idempotency-Key. */
  replays: number
  close(): Promise<void>
}

/**
 * A Stripe-style API on loopback (port 0): `POST …/orders` creates an order and answers it, unless
 * its Idempotency-Key was seen before: then the stored response is replayed as it was, whatever the
 * body (so a key reused for another request loses that request, as on the real thing). An order is
 * created on arrival and answered `delayMs` later, so a run killed meanwhile leaves it created.
 */
export async function startStripeServer(delayMs = 0): Promise<StripeServer> {
  const stored = new Map<string, string>()
  const state = { created: [] as unknown[], replays: 0 }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      const key = req.headers['idempotency-key']
      const answer = (text: string) => setTimeout(() => res.end(text), delayMs)
      res.setHeader('content-type', 'application/json')
      if (req.method !== 'POST' || !req.url?.endsWith('/orders') || typeof key !== 'string') {
        res.statusCode = 400
        return answer('{"error":"POST /orders with an Idempotency-Key"}')
      }
      const replay = stored.get(key)
      if (replay !== undefined) {
        state.replays++
        res.setHeader('idempotent-replayed', 'true')
        return answer(replay)
      }
      const order = JSON.parse(body) as unknown
      state.created.push(order)
      const response = JSON.stringify({ id: `ord_${state.created.length}`, order })
      stored.set(key, response)
      answer(response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get created() {
      return state.created
    },
    get replays() {
      return state.replays
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
