/** A chat completion as the OpenAI-style mock reads it. */
export interface Chat {
  model: string
  max_tokens: number
  messages: { role: string; content: string }[]
}

export interface ChatSpec {
  method: 'POST'
  url: string
  json: Chat
}

/**
 * `count` chat completions of random sizes (max_tokens 100-599, prompts of 0-799 characters), the
 * same for the same `seed`: the LLM-style jobs of the arrival tests.
 */
export function chatCompletions(count: number, seed: number): ChatSpec[] {
  let state = seed
  const random = () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647
  return Array.from({ length: count }, () => ({
    method: 'POST',
    url: '/v1/chat/completions',
    json: {
      model: 'm',
      max_tokens: 100 + Math.floor(random() * 500),
      messages: [{ role: 'user', content: 'x'.repeat(Math.floor(random() * 800)) }],
    },
  }))
}

/** What the OpenAI-style mock charges up front: max_tokens plus a quarter of the prompt's characters. */
export function chargeOf(chat: Chat): number {
  return chat.max_tokens + Math.ceil(chat.messages[0]!.content.length / 4)
}
