import { Response } from '../../../src/http/response.js'

/** A Response as the client would give it, for testing `next` helpers without a server. */
export function respond(
  url: string,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): Response {
  return new Response({
    status: 200,
    statusText: 'OK',
    headers,
    url,
    attempts: 1,
    ms: 1,
    timings: { start: 0, attempts: [] },
    id: undefined,
    body: Buffer.from(JSON.stringify(body)),
  })
}
