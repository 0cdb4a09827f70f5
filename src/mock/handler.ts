/**
 * What an endpoint is. The routes table imports the endpoints and the endpoints import only this,
 * never the table, so the mock's modules depend on each other in one direction.
 */
import type { Clock } from '../limit/clock.js'
import type { Choices } from './choices.js'
import type { MockExchange } from './exchange.js'
import type { JobStore } from './jobs.js'
import type { ResolvedMockOptions } from './options.js'
import type { StatsRecorder } from './stats.js'

/** What an endpoint may use besides its request. */
export interface MockContext {
  readonly options: ResolvedMockOptions
  readonly stats: StatsRecorder
  readonly jobs: JobStore
  readonly clock: Clock
  /** The seeded draws (LLM endpoints draw their completion's length). */
  readonly choices: Choices
}

export type Handler = (exchange: MockExchange, context: MockContext) => void | Promise<void>
