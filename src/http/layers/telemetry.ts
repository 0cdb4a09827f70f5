import { createRequire } from 'node:module'
import type * as OpenTelemetry from '@opentelemetry/api'
import type { CallLayer, Call } from '../call.js'
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
 * timings, under the context it was called in. Its waits in the limiter are events of the request span.
 */
export function telemetryLayer(): CallLayer | undefined {
  const otel = api
  if (!otel) return undefined
  const tracer = otel.trace.getTracer(SCOPE)
  const metrics = instruments(otel)
  return (next) => async (call) => {
    try {
      const answer = await next(call)
      record(otel, tracer, metrics, call, answer.status >= 400 ? String(answer.status) : undefined)
      return answer
    } catch (error) {
      record(otel, tracer, metrics, call, (error as { code?: string }).code ?? 'ERROR')
      throw error
    }
  }
}

function record(
  otel: Api,
  tracer: OpenTelemetry.Tracer,
  metrics: Instruments,
  call: Call,
  errorType?: string,
) {
  const { timings } = call
  const url = call.url
  const base: Attributes = {
    'http.request.method': call.method,
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
  }
  const full = { ...base, 'url.full': shownUrl(call.req) }
  const attempts = timings.attempts
  const last = attempts.at(-1)
  const status = last?.status
  const request = tracer.startSpan(call.method, {
    kind: otel.SpanKind.INTERNAL,
    startTime: timings.start,
    attributes: {
      ...full,
      ...(attempts.length > 1 ? { 'http.request.resend_count': attempts.length - 1 } : {}),
      ...(status !== undefined ? { 'http.response.status_code': status } : {}),
      ...(errorType !== undefined ? { 'error.type': errorType } : {}),
    },
  })
  const parent = otel.trace.setSpan(otel.context.active(), request)
  attempts.forEach((attempt, i) => {
    const began = timings.start + attempt.at + attempt.wait
    request.addEvent(
      'volley.queued',
      { 'volley.attempt': i + 1, 'volley.wait_ms': attempt.wait, 'volley.rate_wait_ms': attempt.rate },
      timings.start + attempt.at,
    )
    const attemptError =
      attempt.error ??
      (attempt.status !== undefined && attempt.status >= 400 ? String(attempt.status) : undefined)
    const attributes: Attributes = {
      ...full,
      ...(i > 0 ? { 'http.request.resend_count': i } : {}),
      ...(attempt.status !== undefined ? { 'http.response.status_code': attempt.status } : {}),
      ...(attemptError !== undefined ? { 'error.type': attemptError } : {}),
    }
    const span = tracer.startSpan(
      call.method,
      { kind: otel.SpanKind.CLIENT, startTime: began, attributes },
      parent,
    )
    if (attemptError !== undefined) span.setStatus({ code: otel.SpanStatusCode.ERROR })
    span.end(began + attempt.ms)
    const measured = {
      ...base,
      ...(attempt.status !== undefined ? { 'http.response.status_code': attempt.status } : {}),
      ...(attemptError !== undefined ? { 'error.type': attemptError } : {}),
    }
    metrics.duration.record(attempt.ms / 1000, measured)
    metrics.queueWait.record(attempt.wait / 1000, base)
    metrics.rateWait.record(attempt.rate / 1000, base)
    if (attempt.status === 429) metrics.rateLimited.add(1, base)
  })
  if (errorType !== undefined) request.setStatus({ code: otel.SpanStatusCode.ERROR })
  const ended = last ? timings.start + last.at + last.wait + last.ms : timings.start
  request.end(Math.max(ended, timings.start))
  metrics.requests.add(1, { ...base, ...(errorType !== undefined ? { 'error.type': errorType } : {}) })
  if (attempts.length > 1) metrics.retries.add(attempts.length - 1, base)
}
