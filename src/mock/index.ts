/**
 * volley/mock: an embedded mock API for demos, tests and benchmarks, with a server-side rate
 * limit, latency, faults, batch and job endpoints, and /__stats to check a client from the server's side.
 */
export { describeMockServer } from './describe.js'
export { FAULT_KINDS, type FaultKind, type MockServerOptions, type ResolvedMockOptions } from './options.js'
export {
  type MockProfile,
  PROFILE_NAMES,
  type ProfileName,
  type ResolvedProfile,
} from './profiles/options.js'
export { quotaUse } from './quota-use.js'
export { type MockServer, STATS_PATH, startMockServer } from './server.js'
export type { MockArrivals, MockStats } from './stats.js'
