import { MockRequestError } from './choices.js'
import type { MockExchange } from './exchange.js'
import type { MockContext } from './handler.js'
import { hashString } from './random.js'

/** A deterministic location for an address, so a test can check each result went to its own key. */
export function geocodeAddress(address: string): { lat: number; lng: number } {
  const hash = hashString(address)
  const lat = ((hash & 0xffff) / 0xffff) * 180 - 90
  const lng = ((hash >>> 16) / 0xffff) * 360 - 180
  return { lat: Number(lat.toFixed(6)), lng: Number(lng.toFixed(6)) }
}

/** POST /batch/geocode `{ "addresses": [...] }` -> `{ "results": { [address]: { lat, lng } } }`. */
export async function geocodeBatch(exchange: MockExchange, { options, stats }: MockContext): Promise<void> {
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
export async function acceptJob(exchange: MockExchange, { jobs, stats, clock }: MockContext): Promise<void> {
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
export function showJob(exchange: MockExchange, { jobs, clock }: MockContext): void {
  const id = exchange.params[0]!
  const view = jobs.view(id, clock.now())
  if (!view) throw new MockRequestError(404, `no job ${JSON.stringify(id)}`)
  exchange.json(200, view)
}
