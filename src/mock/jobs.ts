import { hashString } from './random.js'

/** A job as GET /jobs/:id shows it. */
export type JobView =
  | { id: string; status: 'pending' }
  | { id: string; status: 'done'; results: { item: unknown; value: number }[] }

/**
 * Async jobs: "pending" until `duration` ms after submission, then "done" with one result per item.
 * Status is computed from the clock when asked, so no timer runs for a job.
 */
export class JobStore {
  readonly #duration: number
  readonly #jobs = new Map<string, { items: readonly unknown[]; submittedAt: number }>()
  #nextId = 1

  constructor(duration: number) {
    this.#duration = duration
  }

  submit(items: readonly unknown[], now: number): string {
    const id = `job-${this.#nextId++}`
    this.#jobs.set(id, { items, submittedAt: now })
    return id
  }

  view(id: string, now: number): JobView | undefined {
    const job = this.#jobs.get(id)
    if (!job) return undefined
    if (now - job.submittedAt < this.#duration) return { id, status: 'pending' }
    return { id, status: 'done', results: job.items.map((item) => ({ item, value: itemValue(item) })) }
  }
}

/** A deterministic "processed" value for an item: the same item always gives the same number. */
function itemValue(item: unknown): number {
  return hashString(JSON.stringify(item) ?? 'undefined') % 1000
}
