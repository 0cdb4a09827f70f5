import { seededRandom } from '../../mock/random.js'

/** The inputs `volley demo` writes: what a user's own files would hold. */

/** Act one: mostly GETs by id, some POSTs (each gets an Idempotency-Key) and tuple lines: the three spec forms. */
export function itemsInput(count: number): string {
  const lines: string[] = []
  for (let i = 1; i <= count; i++) {
    if (i % 10 === 0)
      lines.push(
        JSON.stringify({ url: '/anything/orders', json: { order: i, qty: i % 7 }, id: `order-${i}` }),
      )
    else if (i % 10 === 5)
      lines.push(JSON.stringify(['/anything/search', { q: `item ${i}`, page: 1 + (i % 3) }]))
    else lines.push(JSON.stringify({ url: `/items/${i}`, id: `item-${i}` }))
  }
  return `${lines.join('\n')}\n`
}

const CHAT_MAX_TOKENS = { min: 40, max: 400 }
const PROMPT_CHARS = { min: 40, max: 1200 }
const PROMPT = 'Summarise the customer review below in one sentence and rate its tone. '

/**
 * Act two: OpenAI chat completions, `max_tokens` from 40 to 400 and prompts of 40 to 1,200
 * characters, drawn from a fixed seed so every demo runs the same job. Each line says what it
 * costs, as a user estimates it: its max_tokens plus its prompt at the usual 4 characters a token.
 * The sum of those estimates is returned with them.
 */
export function chatsInput(count: number): { text: string; estimated: number } {
  const random = seededRandom(12)
  const between = ({ min, max }: { min: number; max: number }) => min + Math.floor(random() * (max - min + 1))
  const lines: string[] = []
  let estimated = 0
  for (let i = 1; i <= count; i++) {
    const max_tokens = between(CHAT_MAX_TOKENS)
    const content = PROMPT.repeat(Math.ceil(PROMPT_CHARS.max / PROMPT.length)).slice(0, between(PROMPT_CHARS))
    const tokens = max_tokens + Math.ceil(content.length / 4)
    estimated += tokens
    lines.push(
      JSON.stringify({
        url: '/v1/chat/completions',
        id: `review-${i}`,
        json: { model: 'gpt-4o-mini', max_tokens, messages: [{ role: 'user', content }] },
        cost: { tokens },
      }),
    )
  }
  return { text: `${lines.join('\n')}\n`, estimated }
}
