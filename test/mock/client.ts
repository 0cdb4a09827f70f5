import { type Dispatcher, request } from 'undici'

export interface Reply {
  status: number
  headers: Record<string, string>
  text: string
  json: any
}

export interface CallOptions {
  method?: Dispatcher.HttpMethod
  headers?: Record<string, string>
  json?: unknown
  /** The client to send with (an HTTP/2 or TLS agent). @default undici's global dispatcher */
  dispatcher?: Dispatcher
}

/** One request to the mock, body read in full; JSON parsed when it parses. */
export async function call(url: string, options: CallOptions = {}): Promise<Reply> {
  const headers = { ...options.headers }
  if (options.json !== undefined) headers['content-type'] = 'application/json'
  const res = await request(url, {
    method: options.method ?? (options.json === undefined ? 'GET' : 'POST'),
    headers,
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    dispatcher: options.dispatcher,
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
