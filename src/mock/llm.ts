/**
 * The LLM-style endpoints the openai and anthropic profiles are about: POST /v1/chat/completions and
 * POST /v1/messages, answered with bodies shaped like the vendors' and a `usage` that a client can
 * reconcile its estimate with. Served under every profile; only the token profiles limit tokens.
 */
import { randomUUID } from 'node:crypto'
import { MockRequestError } from './choices.js'
import type { MockExchange } from './exchange.js'
import type { MockContext } from './handler.js'
import type { LlmRequest, TokenCost } from './profiles/quota.js'

/** max_tokens when an OpenAI request gives none (OpenAI does not require it; Anthropic does). */
const OPENAI_DEFAULT_MAX_TOKENS = 1024
const MAX_TOKENS_CAP = 1_000_000

/** Reads an OpenAI chat completion request: `{ model, messages: [{ role, content }], max_tokens }`. */
export function readChatCompletion(body: unknown): LlmRequest {
  const fields = objectBody(body, '{ model, messages: [{ role, content }], max_tokens }')
  const maxTokens = fields.max_tokens ?? fields.max_completion_tokens ?? OPENAI_DEFAULT_MAX_TOKENS
  return llmRequest(fields, maxTokens, promptText(fields.messages))
}

/** Reads an Anthropic messages request: `{ model, max_tokens, messages, system? }`. */
export function readMessages(body: unknown): LlmRequest {
  const fields = objectBody(body, '{ model, max_tokens, messages: [{ role, content }] }')
  if (fields.max_tokens === undefined) throw new MockRequestError(400, 'max_tokens: Field required')
  const system = fields.system === undefined ? '' : contentText(fields.system, 'system')
  return llmRequest(fields, fields.max_tokens, system + promptText(fields.messages))
}

/** POST /v1/chat/completions: an OpenAI chat.completion with `usage`. */
export function chatCompletion(exchange: MockExchange, context: MockContext): void {
  const { request, completion, usage } = complete(exchange, context)
  exchange.json(200, {
    id: `chatcmpl-mock-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(context.clock.wallTime() / 1000),
    model: request.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: completionText(completion) },
        logprobs: null,
        finish_reason: completion === request.maxTokens ? 'length' : 'stop',
      },
    ],
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  })
}

/** POST /v1/messages: an Anthropic message with `usage`. */
export function messages(exchange: MockExchange, context: MockContext): void {
  const { request, completion, usage } = complete(exchange, context)
  exchange.json(200, {
    id: `msg_mock_${randomUUID()}`,
    type: 'message',
    role: 'assistant',
    model: request.model,
    content: [{ type: 'text', text: completionText(completion) }],
    stop_reason: completion === request.maxTokens ? 'max_tokens' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  })
}

/**
 * Draws the completion's length (seeded, at most max_tokens), settles the charge to it, so the
 * headers of this response count what the server now holds, and counts the tokens used.
 */
function complete(exchange: MockExchange, { choices, clock, stats }: MockContext) {
  const request = exchange.llm
  if (!request) throw new Error('an LLM endpoint was reached without its request read')
  const completion = choices.completion(request.maxTokens)
  const usage: TokenCost = { input: request.cost.input, output: completion }
  if (exchange.settle) exchange.quotaHeaders = exchange.settle(usage, clock.now(), clock.wallTime())
  stats.tokens('used', usage.input + usage.output)
  return { request, completion, usage }
}

function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (typeof body === 'object' && body !== null && !Array.isArray(body))
    return body as Record<string, unknown>
  throw new MockRequestError(400, `expected a JSON object ${shape}`)
}

function llmRequest(fields: Record<string, unknown>, maxTokens: unknown, prompt: string): LlmRequest {
  if (typeof fields.model !== 'string' || fields.model === '') {
    throw new MockRequestError(400, 'model: expected a non-empty string')
  }
  if (
    typeof maxTokens !== 'number' ||
    !Number.isInteger(maxTokens) ||
    maxTokens < 1 ||
    maxTokens > MAX_TOKENS_CAP
  ) {
    throw new MockRequestError(400, `max_tokens: expected a whole number from 1 to ${MAX_TOKENS_CAP}`)
  }
  return { model: fields.model, maxTokens, cost: { input: Math.ceil(prompt.length / 4), output: maxTokens } }
}

/** All message contents concatenated: the prompt whose length the token estimate is made from. */
function promptText(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new MockRequestError(400, 'messages: expected a non-empty array of { role, content }')
  }
  return messages
    .map((message, i) => {
      const content = (message as { content?: unknown } | null)?.content
      return contentText(content, `messages[${i}].content`)
    })
    .join('')
}

/** A content string, or an array of parts of which the `text` ones count. */
function contentText(content: unknown, field: string): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part) => (part as { text?: unknown } | null)?.text)
      .filter((text): text is string => typeof text === 'string')
      .join('')
  }
  throw new MockRequestError(400, `${field}: expected a string or an array of { type: "text", text }`)
}

const WORD = 'lorem '

/** About `tokens` tokens of filler text (a token is about 4 characters). */
function completionText(tokens: number): string {
  return WORD.repeat(Math.ceil((tokens * 4) / WORD.length))
    .slice(0, tokens * 4)
    .trimEnd()
}
