import { createRequire } from 'node:module'
import type * as OpenTelemetry from '@opentelemetry/api'
import type { Clock } from '../../limit/clock.js'
import type { CallLayer, Call } from '../call.js'
import type { AttemptTiming } from '../timings.js'
import { shownUrl } from '../spec.js'

type Api = typeof OpenTelemetry
type Attributes = OpenTelemetry.Attributes

/** `@opentelemetry/api` when the application has it (an optional peer dependency), else undefined. */
function loadApi(): Api | undefined {
  try {
    // The API keeps its registrations on globalThis, so this copy sees the SDK the application set up.
    return createRequire(import.meta.url)('@opentelemetry/api') as Api
  } catch {
    return undefined
  }
}

const api = loadApi()
const SCOPE = 'volley'

/** The client's instruments: made once per client, from the meter provider registered by then. */
interface Instruments {
  duration: OpenTelemetry.Histogram
  queueWait: OpenTelemetry.Histogram
  rateWait: OpenTelemetry.Histogram
  requests: OpenTelemetry.Counter
  retries: OpenTelemetry.Counter
  rateLimited: OpenTelemetry.Counter
}

function instruments(otel: Api): Instruments {
  const meter = otel.metrics.getMeter(SCOPE)
  return {
    duration: meter.createHistogram('http.client.request.duration', {
      unit: 's',
      description: 'Duration of HTTP client requests: each attempt, from its turn to its body read.',
    }),
    queueWait: meter.createHistogram('volley.client.queue.wait', {
      unit: 's',
      description: "Time each attempt waited in its origin's limiter (a slot, the rate or a pause).",
    }),
    rateWait: meter.createHistogram('volley.client.rate.wait', {
      unit: 's',
      description: 'Of the queue wait, the time the limiter waited for a rate or a pause.',
    }),
    requests: meter.createCounter('volley.client.requests', {
      description: 'Requests made, retries not counted.',
    }),
    retries: meter.createCounter('volley.client.retries', { description: 'Attempts after the first.' }),
    rateLimited: meter.createCounter('volley.client.rate_limited', { description: 'Attempts answered 429.' }),
  }
}

/**
 * Spans and metrics for every request, when `@opentelemetry/api` is installed (none otherwise: the
 * layer is left out). A request is a span (INTERNAL) with a CLIENT span per attempt, as the HTTP
 * client semantic conventions describe retries; both are made when the request ends, from its
 * timings, under the context it was called in. Its waits in the limiter are events of the request
 * span. With the API but no SDK (a tracer that records nothing, a no-op meter) little is done.
 */
export function telemetryLayer(clock: Clock): CallLayer | undefined {
  const otel = api
  if (!otel) return undefined
  const tracer = otel.trace.getTracer(SCOPE)
  const made = instruments(otel)
  // Instruments from the no-op meter (no SDK registered when the client was made) measure nothing.
  const noop = otel.createNoopMeter().createHistogram('noop').constructor
  const metrics = made.duration instanceof noop ? undefined : made
  const record = (call: Call, errorType: string | undefined) => {
    // The request ends now, on the wall clock: after its last attempt, or in a queue or a backoff.
    const ended = call.timings.start + clock.now() - call.start
    const span = tracer.startSpan(call.method, {
      kind: otel.SpanKind.INTERNAL,
      startTime: call.timings.start,
    })
    const recording = span.isRecording()
    if (!recording && !metrics) return span.end(ended)
    const base = baseAttributes(call)
    if (recording) recordSpans(otel, tracer, span, call, base, errorType, ended)
    else span.end(ended)
    if (metrics) recordMetrics(metrics, call, base, errorType)
  }
  return (next) => (call) =>
    next(call).then(
      (answer) => {
        record(call, answer.status >= 400 ? String(answer.status) : undefined)
        return answer
      },
      (error: unknown) => {
        record(call, (error as { code?: string } | undefined)?.code ?? 'ERROR')
        throw error
      },
    )
}

function baseAttributes(call: Call): Attributes {
  const url = call.url
  return {
    'http.request.method': call.method,
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
  }
}

/** What an attempt's `error.type` is: its error's code, or its status from 400 on. */
function attemptError(attempt: AttemptTiming): string | undefined {
  if (attempt.error !== undefined) return attempt.error
  return attempt.status !== undefined && attempt.status >= 400 ? String(attempt.status) : undefined
}

/** The outcome attributes of a request or an attempt: its status and error type, when it has them. */
function outcome(status: number | undefined, errorType: string | undefined): Attributes {
  return {
    ...(status !== undefined ? { 'http.response.status_code': status } : {}),
    ...(errorType !== undefined ? { 'error.type': errorType } : {}),
  }
}

/** The request's span (recording), its attributes and events, and a CLIENT span per attempt under it. */
function recordSpans(
  otel: Api,
  tracer: OpenTelemetry.Tracer,
  request: OpenTelemetry.Span,
  call: Call,
  base: Attributes,
  errorType: string | undefined,
  ended: number,
): void {
  const { timings } = call
  const attempts = timings.attempts
  const last = attempts.at(-1)
  const full = { ...base, 'url.full': shownUrl(call.req) }
  request.setAttributes({
    ...full,
    ...(attempts.length > 1 ? { 'http.request.resend_count': attempts.length - 1 } : {}),
    ...outcome(last?.status, errorType),
  })
  const parent = otel.trace.setSpan(otel.context.active(), request)
  attempts.forEach((attempt, i) => {
    request.addEvent(
      'volley.queued',
      { 'volley.attempt': i + 1, 'volley.wait_ms': attempt.wait, 'volley.rate_wait_ms': attempt.rate },
      timings.start + attempt.at,
    )
    const error = attemptError(attempt)
    const began = timings.start + attempt.at + attempt.wait
    const attributes = {
      ...full,
      ...(i > 0 ? { 'http.request.resend_count': i } : {}),
      ...outcome(attempt.status, error),
    }
    const span = tracer.startSpan(
      call.method,
      { kind: otel.SpanKind.CLIENT, startTime: began, attributes },
      parent,
    )
    if (error !== undefined) span.setStatus({ code: otel.SpanStatusCode.ERROR })
    span.end(began + attempt.ms)
  })
  if (errorType !== undefined) request.setStatus({ code: otel.SpanStatusCode.ERROR })
  request.end(ended)
}

function recordMetrics(
  metrics: Instruments,
  call: Call,
  base: Attributes,
  errorType: string | undefined,
): void {
  const attempts = call.timings.attempts
  for (const attempt of attempts) {
    metrics.duration.record(attempt.ms / 1000, { ...base, ...outcome(attempt.status, attemptError(attempt)) })
    metrics.queueWait.record(attempt.wait / 1000, base)
    metrics.rateWait.record(attempt.rate / 1000, base)
    if (attempt.status === 429) metrics.rateLimited.add(1, base)
  }
  metrics.requests.add(1, { ...base, ...outcome(undefined, errorType) })
  if (attempts.length > 1) metrics.retries.add(attempts.length - 1, base)
}
