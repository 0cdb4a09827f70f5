import { delay, echo, fixedJson, item, redirect, status } from './endpoints.js'
import type { Handler } from './handler.js'
import { list } from './lists.js'
import { chatCompletion, messages, readChatCompletion, readMessages } from './llm.js'
import type { LlmRequest } from './profiles/quota.js'
import { geocodeBatch, showJob, acceptJob } from './work.js'

interface Route {
  /** '/items/:id': the name requests are counted under in `byPath`. */
  readonly pattern: string
  readonly methods: readonly string[]
  readonly summary: string
  readonly handle: Handler
  readonly segments: readonly string[]
  /** For an LLM endpoint: reads the request from its JSON body, which is read before admission. */
  readonly meter?: (body: unknown) => LlmRequest
}

const ANY = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
const GET = ['GET', 'HEAD']
const POST = ['POST']

function route(
  pattern: string,
  methods: readonly string[],
  summary: string,
  handle: Handler,
  meter?: (body: unknown) => LlmRequest,
): Route {
  return { pattern, methods, summary, handle, segments: pattern.split('/').slice(1), meter }
}

/** Every endpoint, most used first (the table is scanned in order). */
export const ROUTES: readonly Route[] = [
  route('/json', GET, 'a small fixed JSON body (for throughput)', fixedJson),
  route('/items/:id', GET, 'a deterministic record per id', item),
  route(
    '/lists/:name',
    GET,
    '?style=link|cursor|stripe|offset|page&pages=N&size=M: a paginated list of { id, list, n }',
    list,
  ),
  route('/anything', ANY, 'echoes method, path, query, headers and body', echo),
  route('/anything/*', ANY, 'the same, under any sub-path', echo),
  route('/status/:code', ANY, 'answers with that status', status),
  route('/delay/:ms', ANY, 'answers after that many ms', delay),
  route('/batch/geocode', POST, '{ "addresses": [...] } -> results keyed by address', geocodeBatch),
  route('/jobs', POST, '{ "items": [...] } -> 202 { id, status: "pending" }', acceptJob),
  route('/jobs/:id', GET, 'pending until jobDuration has passed, then done with results', showJob),
  route('/redirect-to', ANY, '?url=<target>&status=<3xx> redirects there', redirect),
  route(
    '/v1/chat/completions',
    POST,
    'OpenAI-style { model, messages, max_tokens } -> a completion with usage',
    chatCompletion,
    readChatCompletion,
  ),
  route(
    '/v1/messages',
    POST,
    'Anthropic-style { model, max_tokens, messages } -> a message with usage',
    messages,
    readMessages,
  ),
]

export type RouteMatch =
  { kind: 'found'; route: Route; params: string[] } | { kind: 'method'; route: Route } | { kind: 'none' }

/** Pattern counted for paths no route knows. */
export const UNMATCHED = '(unmatched)'

/** Finds the route for a path: ':name' takes one segment, a trailing '*' one or more. */
export function matchRoute(method: string, path: string): RouteMatch {
  const segments = path.split('/').slice(1)
  let wrongMethod: Route | undefined
  for (const candidate of ROUTES) {
    const params = matchSegments(candidate.segments, segments)
    if (!params) continue
    if (candidate.methods.includes(method)) return { kind: 'found', route: candidate, params }
    wrongMethod ??= candidate
  }
  return wrongMethod ? { kind: 'method', route: wrongMethod } : { kind: 'none' }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): string[] | undefined {
  const params: string[] = []
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i]!
    const segment = segments[i]
    if (segment === undefined || segment === '') return undefined
    if (part === '*') {
      params.push(segments.slice(i).join('/'))
      return params
    }
    if (part.startsWith(':')) params.push(segment)
    else if (part !== segment) return undefined
  }
  return segments.length === pattern.length ? params : undefined
}
