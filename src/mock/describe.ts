import { formatRate } from '../limit/units.js'
import type { ResolvedProfile } from './profiles/options.js'
import { ROUTES } from './routes.js'
import { type MockServer, STATS_PATH } from './server.js'

/** A short human description of a running mock server (its URL, behaviour and endpoints), for `volley mock`. */
export function describeMockServer(server: MockServer): string {
  const { options } = server
  const behaviour = [
    options.tls ? (options.http2 ? 'HTTPS, HTTP/2 and HTTP/1.1' : 'HTTPS') : undefined,
    options.profile.name === 'ietf'
      ? options.rates.length > 0
        ? `rate ${options.rates.map(formatRate).join(' + ')}`
        : 'no rate limit'
      : describeProfile(options.profile),
    Number.isFinite(options.maxInFlight) ? `max ${options.maxInFlight} in flight` : undefined,
    options.latency.max > 0
      ? `latency ${options.latency.min === options.latency.max ? options.latency.min : `${options.latency.min}-${options.latency.max}`}ms`
      : undefined,
    options.faults.size > 0
      ? `faults ${[...options.faults].map(([kind, p]) => `${kind} ${Number((p * 100).toFixed(3))}%`).join(', ')}`
      : undefined,
    `seed ${server.seed}`,
    options.auth !== undefined ? 'bearer token required' : undefined,
    options.connectDelay > 0 ? `connect delay ${options.connectDelay}ms` : undefined,
  ].filter((part) => part !== undefined)
  const width = Math.max(...ROUTES.map((route) => route.pattern.length), STATS_PATH.length)
  const lines = ROUTES.map(
    (route) => `  ${methodLabel(route.methods).padEnd(5)} ${route.pattern.padEnd(width)}  ${route.summary}`,
  )
  lines.push(`  ${'GET'.padEnd(5)} ${STATS_PATH.padEnd(width)}  server-side counters (DELETE resets them)`)
  return [`volley mock API listening on ${server.url}`, `  ${behaviour.join(', ')}`, ...lines].join('\n')
}

function methodLabel(methods: readonly string[]): string {
  if (methods.length > 2) return 'ANY'
  return methods[0]!
}

/** "profile openai: requests 5/1s, tokens 2000/1s" */
function describeProfile(profile: Exclude<ResolvedProfile, { name: 'ietf' }>): string {
  const limits = Object.entries(profile)
    .filter(([key]) => key !== 'name')
    .map(([key, value]) => `${key} ${typeof value === 'number' ? value : formatRate(value)}`)
  return `profile ${profile.name}: ${limits.join(', ')}`
}
