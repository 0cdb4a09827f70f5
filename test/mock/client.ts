import { type Dispatcher, request } from 'undici'

export interface Reply {
  status: number
  headers: Record<string, string>
  text: string
  json: any
}

/** One request to the mock, body read in full; JSON parsed when it parses. */
export async function call(
  url: string,
  options: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; json?: unknown } = {},
): Promise<Reply> {
  const headers = { ...options.headers }
  if (options.json !== undefined) headers['content-type'] = 'application/json'
  const res = await request(url, {
    method: options.method ?? (options.json === undefined ? 'GET' : 'POST'),
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
  })
  const text = await res.body.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.statusCode, headers: res.headers as Record<string, string>, text, json }
}
