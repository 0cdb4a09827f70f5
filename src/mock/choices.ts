import { FAULT_KINDS, type FaultKind } from './options.js'
import { seededRandom } from './random.js'

/** A request the mock refuses to serve as asked: answered with `status` and the message as JSON. */
export class MockRequestError extends Error {
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

/** The seeded draws made for each admitted request, in arrival order. */
export interface Choices {
  /** The fault to inject, or undefined to serve the request normally. */
  fault(): FaultKind | undefined
  /** Ms to wait before answering. */
  latency(): number
  /** The output tokens of an LLM completion: a whole number from ceil(max / 2) to max. */
  completion(maxTokens: number): number
}

/**
 * Faults, latency and completion lengths draw from separate generators, so turning latency on or
 * off does not change which requests fault: a seed reproduces the same fault sequence either way.
 */
export function createChoices(
  faults: ReadonlyMap<FaultKind, number>,
  latency: { readonly min: number; readonly max: number },
  seed: number,
): Choices {
  const faultRandom = seededRandom(seed)
  const latencyRandom = seededRandom(seed ^ 0x5bd1e995)
  const completionRandom = seededRandom(seed ^ 0x2545f491)
  const kinds = [...faults.keys()]
  const cumulative: number[] = []
  let sum = 0
  for (const kind of kinds) {
    sum += faults.get(kind)!
    cumulative.push(sum)
  }
  const spread = latency.max - latency.min
  return {
    fault() {
      if (kinds.length === 0) return undefined
      const draw = faultRandom()
      for (let i = 0; i < kinds.length; i++) if (draw < cumulative[i]!) return kinds[i]
      return undefined
    },
    latency: () => (spread === 0 ? latency.min : latency.min + latencyRandom() * spread),
    completion(maxTokens) {
      const least = Math.ceil(maxTokens / 2)
      return least + Math.floor(completionRandom() * (maxTokens - least + 1))
    },
  }
}

const MAX_FORCED_DELAY = 600_000

/** Reads `x-mock-fault`: a fault forced for this one request. */
export function forcedFault(header: string | string[] | undefined): FaultKind | undefined {
  if (header === undefined) return undefined
  const value = String(header).trim().toLowerCase()
  if ((FAULT_KINDS as readonly string[]).includes(value)) return value as FaultKind
  throw new MockRequestError(
    400,
    `x-mock-fault must be one of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(String(header))}`,
  )
}

/** Reads `x-mock-delay`: milliseconds to wait for this one request, replacing the latency option. */
export function forcedDelay(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined
  const ms = Number(header)
  if (String(header).trim() !== '' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_FORCED_DELAY) return ms
  throw new MockRequestError(
    400,
    `x-mock-delay must be milliseconds from 0 to ${MAX_FORCED_DELAY}, got ${JSON.stringify(String(header))}`,
  )
}
