import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../../src/http/client.js'
import { tinyServer, type TinyServer } from './helpers.js'

/** A reader the test collects from when it wants, cumulative. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const spans = new InMemorySpanExporter()
const reader = new TestReader()
let server: TinyServer
const answered = new Map<string, number>()

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  // /retry/*: 429 then 503 then 200; /missing: 404.
  server = await tinyServer((req, res) => {
    const url = req.url ?? ''
    const n = (answered.get(url) ?? 0) + 1
    answered.set(url, n)
    if (url === '/missing') return void res.writeHead(404).end()
    if (url.startsWith('/retry/') && n === 1) return void res.writeHead(429, { 'retry-after': '0' }).end()
    if (url.startsWith('/retry/') && n === 2) return void res.writeHead(503).end()
    res.writeHead(200).end('{}')
  })
})
afterAll(async () => {
  await server.close()
  trace.disable()
  metrics.disable()
  context.disable()
})

describe('OpenTelemetry', () => {
  it('makes a span per request under the caller’s span, with a CLIENT child per attempt', async () => {
    spans.reset()
    const api = createClient({ baseUrl: server.url, retry: { attempts: 3, backoff: { base: 1, max: 1 } } })
    const tracer = trace.getTracer('test')
    await tracer.startActiveSpan('job', async (job) => {
      await api.get('/retry/1', { params: { api_key: 'k-secret' } })
      await api.get('/missing').catch(() => {})
      job.end()
    })
    await api.close()
    const finished = spans.getFinishedSpans()
    const job = finished.find((s) => s.name === 'job')!
    const requests = finished.filter((s) => s.kind === SpanKind.INTERNAL && s.name === 'GET')
    expect(requests).toHaveLength(2)
    for (const request of requests) expect(request.parentSpanContext?.spanId).toBe(job.spanContext().spanId)
    const retried = requests.find((s) => String(s.attributes['url.full']).includes('/retry/1'))!
    expect(retried.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'http.request.resend_count': 2,
      'server.address': '127.0.0.1',
    })
    expect(String(retried.attributes['url.full'])).not.toContain('k-secret')
    expect(retried.status.code).toBe(SpanStatusCode.UNSET)
    const attempts = finished
      .filter(
        (s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === retried.spanContext().spanId,
      )
      .sort(
        (a, b) =>
          Number(a.attributes['http.request.resend_count'] ?? 0) -
          Number(b.attributes['http.request.resend_count'] ?? 0),
      )
    expect(attempts.map((s) => s.attributes['http.response.status_code'])).toEqual([429, 503, 200])
    expect(attempts.map((s) => s.attributes['http.request.resend_count'])).toEqual([undefined, 1, 2])
    expect(attempts.map((s) => s.attributes['error.type'])).toEqual(['429', '503', undefined])
    expect(attempts[0]!.status.code).toBe(SpanStatusCode.ERROR)
    expect(retried.events.filter((e) => e.name === 'volley.queued')).toHaveLength(3)
    const missing = requests.find((s) => String(s.attributes['url.full']).endsWith('/missing'))!
    expect(missing.attributes).toMatchObject({ 'http.response.status_code': 404, 'error.type': '404' })
    expect(missing.status.code).toBe(SpanStatusCode.ERROR)
  })

  it('counts requests, retries and 429s, and records attempt durations and queue waits', async () => {
    const { resourceMetrics } = await reader.collect()
    const all = resourceMetrics.scopeMetrics
      .filter((s) => s.scope.name === 'volley')
      .flatMap((s) => s.metrics)
    const named = (name: string) => all.find((m) => m.descriptor.name === name)!
    const sum = (name: string) => named(name).dataPoints.reduce((total, p) => total + (p.value as number), 0)
    expect(sum('volley.client.requests')).toBe(2)
    expect(sum('volley.client.retries')).toBe(2)
    expect(sum('volley.client.rate_limited')).toBe(1)
    const durations = named('http.client.request.duration').dataPoints as DataPoint<Histogram>[]
    expect(durations.reduce((n, p) => n + p.value.count, 0)).toBe(4)
    const waits = named('volley.client.queue.wait').dataPoints as DataPoint<Histogram>[]
    expect(waits.reduce((n, p) => n + p.value.count, 0)).toBe(4)
  })
})
