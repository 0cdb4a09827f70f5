import { MockRequestError } from './choices.js'
import type { Exchange } from './exchange.js'
import { hashString } from './random.js'
import type { MockContext } from './routes.js'

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

/** A deterministic location for an address, so a test can check each result went to its own key. */
export function geocodeAddress(address: string): { lat: number; lng: number } {
  const hash = hashString(address)
  const lat = ((hash & 0xffff) / 0xffff) * 180 - 90
  const lng = ((hash >>> 16) / 0xffff) * 360 - 180
  return { lat: Number(lat.toFixed(6)), lng: Number(lng.toFixed(6)) }
}

/** POST /batch/geocode `{ "addresses": [...] }` -> `{ "results": { [address]: { lat, lng } } }`. */
export async function geocodeBatch(exchange: Exchange, { options, stats }: MockContext): Promise<void> {
  const body = await exchange.readJson()
  const addresses = (body as { addresses?: unknown } | null)?.addresses
  if (!Array.isArray(addresses) || addresses.length === 0 || addresses.some((a) => typeof a !== 'string')) {
    throw new MockRequestError(400, 'expected { "addresses": [...] }: a non-empty array of strings')
  }
  if (addresses.length > options.batchMax) {
    throw new MockRequestError(
      400,
      `at most ${options.batchMax} addresses per call (batchMax), got ${addresses.length}`,
    )
  }
  stats.batch(addresses.length)
  // fromEntries defines own properties, so an address such as "__proto__" is just a key.
  const results = Object.fromEntries((addresses as string[]).map((a) => [a, geocodeAddress(a)]))
  exchange.json(200, { results })
}

const MAX_JOB_ITEMS = 100_000

/** POST /jobs `{ "items": [...] }` -> 202 `{ id, status: "pending" }`. */
export async function submitJob(exchange: Exchange, { jobs, stats, clock }: MockContext): Promise<void> {
  const body = await exchange.readJson()
  const items = (body as { items?: unknown } | null)?.items
  if (!Array.isArray(items) || items.length > MAX_JOB_ITEMS) {
    throw new MockRequestError(400, `expected { "items": [...] }: an array of at most ${MAX_JOB_ITEMS}`)
  }
  const id = jobs.submit(items, clock.now())
  stats.count('jobs')
  exchange.json(202, { id, status: 'pending' }, { location: `/jobs/${id}` })
}

/** GET /jobs/:id -> `{ id, status: "pending" }` until the job's time is up, then with `results`. */
export function showJob(exchange: Exchange, { jobs, clock }: MockContext): void {
  const id = exchange.params[0]!
  const view = jobs.view(id, clock.now())
  if (!view) throw new MockRequestError(404, `no job ${JSON.stringify(id)}`)
  exchange.json(200, view)
}
