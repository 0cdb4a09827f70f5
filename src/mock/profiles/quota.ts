import type { ResolvedRate } from '../../limit/units.js'
import { type WindowCharge, WeightedWindow } from '../windows.js'

/** What a request costs in tokens: its prompt (input) and the output it may get (max_tokens). */
export interface TokenCost {
  readonly input: number
  readonly output: number
}

/** An LLM endpoint's request as the quota sees it: read from the body before admission. */
export interface LlmRequest {
  readonly model: string
  readonly maxTokens: number
  /** input: ceil(prompt characters / 4); output: max_tokens. */
  readonly cost: TokenCost
}

/** What the quota is told about a request it admits or refuses. */
export interface QuotaRequest {
  /** Monotonic ms. */
  readonly now: number
  /** Unix ms at `now`, for headers that carry a time (epoch seconds, RFC 3339). */
  readonly wallTime: number
  /** The token cost of an LLM request; undefined for other endpoints (they cost one request). */
  readonly cost: TokenCost | undefined
  /** Requests in flight, this one included. */
  readonly inFlight: number
}

/** What a quota decided for one request, in its dialect. */
export interface QuotaVerdict {
  readonly admitted: boolean
  /** The dialect's quota headers: sent with the response, whatever it is. */
  readonly headers: Record<string, string>
  /** The status and JSON body of the refusal, when not admitted. */
  readonly refusal?: { readonly status: number; readonly body: unknown }
  /**
   * Lowers an admitted request's token charge to what it really used and gives the headers as the
   * server then counts: the usage a response reports can be less than what was charged up front.
   */
  readonly settle?: (used: TokenCost, now: number, wallTime: number) => Record<string, string>
}

/** A server-side rate limit speaking one API's dialect. */
export interface Quota {
  admit(request: QuotaRequest): QuotaVerdict
}

/** One sliding-window budget of a token dialect: requests weigh 1, token budgets what `weigh` says. */
export interface BudgetSpec {
  readonly key: string
  readonly rate: ResolvedRate
  readonly weigh: (cost: TokenCost) => number
}

/** How a budget stands at some moment, for the headers. */
export interface BudgetView {
  readonly key: string
  readonly limit: number
  readonly remaining: number
  /** Ms until the budget is whole again (every charge has left the window). */
  readonly resetIn: number
}

/** Why Budgets refused a request: the budget to wait for, and how it stands. */
export interface BudgetRefusal {
  readonly key: string
  readonly limit: number
  /** What the request weighs in that budget. */
  readonly requested: number
  /** Ms until the request would fit that budget; Infinity when it is larger than the whole budget. */
  readonly freeIn: number
}

export type BudgetDecision =
  | { readonly admitted: true; readonly charges: readonly WindowCharge[] }
  | ({ readonly admitted: false } & BudgetRefusal)

const NO_TOKENS: TokenCost = { input: 0, output: 0 }

/**
 * Budgets that must all hold, each an exact sliding window (OpenAI's and Anthropic's requests and
 * tokens). A request is charged in every budget or in none, so a refusal costs nothing.
 */
export class Budgets {
  readonly #specs: readonly BudgetSpec[]
  readonly #windows: readonly WeightedWindow[]

  constructor(specs: readonly BudgetSpec[]) {
    this.#specs = specs
    this.#windows = specs.map((spec) => new WeightedWindow(spec.rate))
  }

  admit(now: number, cost: TokenCost | undefined): BudgetDecision {
    const tokens = cost ?? NO_TOKENS
    const weights = this.#specs.map((spec) => spec.weigh(tokens))
    // The budget that frees last is the one to wait for.
    let worst: BudgetRefusal | undefined
    for (let i = 0; i < this.#windows.length; i++) {
      const window = this.#windows[i]!
      const freeIn = window.freeIn(now, weights[i]!)
      if (freeIn > 0 && (!worst || freeIn > worst.freeIn)) {
        worst = { key: this.#specs[i]!.key, limit: window.rate.limit, requested: weights[i]!, freeIn }
      }
    }
    if (worst) return { admitted: false, ...worst }
    return { admitted: true, charges: this.#windows.map((window, i) => window.charge(now, weights[i]!)) }
  }

  settle(charges: readonly WindowCharge[], used: TokenCost): void {
    for (let i = 0; i < this.#windows.length; i++) {
      this.#windows[i]!.settle(charges[i]!, this.#specs[i]!.weigh(used))
    }
  }

  view(now: number): BudgetView[] {
    return this.#windows.map((window, i) => ({
      key: this.#specs[i]!.key,
      limit: window.rate.limit,
      remaining: window.remaining(now),
      resetIn: window.resetIn(now),
    }))
  }
}

/** Retry-After in whole seconds, rounded up and at least 1: a client that waits this long finds room. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)))
}

/** A sliding-window budget weighing one per request, whatever it costs in tokens. */
export function requestBudget(rate: ResolvedRate): BudgetSpec {
  return { key: 'requests', rate, weigh: () => 1 }
}

/**
 * A quota over Budgets in some dialect: `headers` writes how the budgets stand, `refusal` the status
 * and body of a refusal. Retry-After is added to refusals, except for a request larger than a whole
 * budget: waiting cannot help it.
 */
export function budgetQuota(
  specs: readonly BudgetSpec[],
  headers: (views: readonly BudgetView[], wallTime: number) => Record<string, string>,
  refusal: (refused: BudgetRefusal) => { status: number; body: unknown },
): Quota {
  const budgets = new Budgets(specs)
  return {
    admit({ now, wallTime, cost }): QuotaVerdict {
      const decision = budgets.admit(now, cost)
      if (decision.admitted) {
        return {
          admitted: true,
          headers: headers(budgets.view(now), wallTime),
          settle: (used, at, atWall) => {
            budgets.settle(decision.charges, used)
            return headers(budgets.view(at), atWall)
          },
        }
      }
      const sent = headers(budgets.view(now), wallTime)
      if (Number.isFinite(decision.freeIn)) sent['retry-after'] = retryAfterSeconds(decision.freeIn)
      return { admitted: false, headers: sent, refusal: refusal(decision) }
    },
  }
}
