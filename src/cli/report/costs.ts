import type { Response } from '../../http/response.js'
import type { Cost } from '../../limit/cost.js'
import { REQUESTS } from '../../limit/units.js'

/** A budget in another unit than requests, as the summary shows it. */
export interface Budget {
  limit: number
  /** Ms, as enforced: a learned one includes volley's safety margin. */
  interval: number
  unit: string
  /** 'given' with --rate, 'learned' from the API's headers. */
  source: 'given' | 'learned'
}

/**
 * What a run's requests cost in other units than requests (tokens): the estimates the lines gave
 * (`cost`, or --cost-field), counted once per request sent whatever its attempts; what the
 * responses' `usage` reported (OpenAI's and Anthropic's bodies); and the budgets in force.
 */
export class CostTally {
  /** Per unit, the estimated cost of the requests this run sent and wrote a result for. */
  readonly estimated = new Map<string, number>()
  /** Tokens the responses' `usage` reported, once any did. */
  reportedTokens: number | undefined
  readonly #budgets = new Map<string, Budget>()

  /** Budgets in force: those given (--rate), and those the client learned (its `quota` event). */
  budgets(
    rates: readonly { limit: number; interval: number; unit?: string }[],
    source: Budget['source'],
  ): void {
    for (const [key, budget] of this.#budgets) if (budget.source === source) this.#budgets.delete(key)
    for (const { limit, interval, unit } of rates) {
      const key = `${unit}/${interval}/${limit}`
      // The learned rates in force include the given ones: those stay given.
      if (unit === undefined || unit === REQUESTS || this.#budgets.has(key)) continue
      this.#budgets.set(key, { limit, interval, unit, source })
    }
  }

  /** Whether the summary says anything about costs: a request had one, or a budget was in force. */
  get tracking(): boolean {
    return this.estimated.size > 0 || this.#budgets.size > 0
  }

  /** A result written: its request's estimate (when it was sent), and what its response says it used. */
  result(cost: Cost | undefined, attempts: number, response: Response | undefined): void {
    if (attempts > 0 && typeof cost === 'object') {
      for (const [unit, amount] of Object.entries(cost))
        if (unit !== REQUESTS) this.estimated.set(unit, (this.estimated.get(unit) ?? 0) + amount)
    }
    if (response !== undefined && this.tracking) {
      const used = reportedTokens(response.text())
      if (used !== undefined) this.reportedTokens = (this.reportedTokens ?? 0) + used
    }
  }

  get inForce(): Budget[] {
    return [...this.#budgets.values()]
  }
}

/**
 * The tokens a response body's `usage` says the call used: OpenAI's `total_tokens` (else prompt +
 * completion), Anthropic's input (cache writes and reads included) + output. Undefined for a body
 * without such a `usage`; the cheap `includes` spares parsing every other body.
 */
export function reportedTokens(body: string): number | undefined {
  if (!body.includes('"usage"')) return undefined
  let usage: unknown
  try {
    usage = (JSON.parse(body) as { usage?: unknown } | null)?.usage
  } catch {
    return undefined
  }
  if (typeof usage !== 'object' || usage === null) return undefined
  const fields = usage as Record<string, unknown>
  const count = (...names: string[]) => {
    const values = names.map((name) => fields[name]).filter((v): v is number => isCount(v))
    return values.length > 0 ? values.reduce((a, b) => a + b, 0) : undefined
  }
  if (isCount(fields.total_tokens)) return fields.total_tokens
  return (
    count('prompt_tokens', 'completion_tokens') ??
    count('input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens')
  )
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}
