import type { Cost } from '../../../src/limit/cost.js'
import { Call, type CallSend, type ManyCall } from '../../../src/http/call.js'
import { Emitter } from '../../../src/http/events.js'
import { OriginState } from '../../../src/http/origins.js'
import type { LayerResponse } from '../../../src/http/pipeline.js'
import { SignalFanout } from '../../../src/http/signals.js'
import { prepareRequest } from '../../../src/http/spec.js'
import { createManualClock, type ManualClock } from '../../../src/limit/clock.js'
import { createLimiter, type LimiterOptions } from '../../../src/limit/limiter.js'

/** A call to GET https://api.test/items on a manual clock, with its own origin limiter. */
export function testCall(
  options: {
    method?: string
    limits?: LimiterOptions
    many?: ManyCall
    clock?: ManualClock
    cost?: Cost
  } = {},
): { call: Call; clock: ManualClock; emitter: Emitter } {
  const clock = options.clock ?? createManualClock()
  const req = prepareRequest(
    { url: 'https://api.test/items', method: options.method ?? 'GET', cost: options.cost },
    { base: undefined, origins: undefined, headers: {} },
  )
  const state = new OriginState(req.origin, createLimiter({ ...options.limits, clock }), true)
  const call = new Call({
    clock,
    req,
    state,
    signal: undefined,
    many: options.many,
    resendable: true,
    start: clock.now(),
    wallStart: clock.wallTime(),
  })
  return { call, clock, emitter: new Emitter() }
}

/** A ManyCall as the client makes one for an `all`/`stream` call that stops on `stopOn`. */
export function testManyCall(stopOn: readonly number[]): ManyCall {
  const stop = new AbortController()
  const signal = new AbortController().signal
  const waitSignal = stop.signal
  return {
    inFlight: new SignalFanout(signal),
    stop,
    stopOn: new Set(stopOn),
    waitSignal,
    runOptions: { signal: waitSignal, countsFrom: 'sent' },
  }
}

/** An answer of `status` with `headers`. */
export function answer(status: number, headers: Record<string, string> = {}): LayerResponse {
  return {
    status,
    statusText: '',
    headers,
    body: Buffer.alloc(0),
    url: new URL('https://api.test/items'),
    retryAfter: undefined,
  }
}

/** A `next` step that counts its calls as attempts and answers from `script` in turn. */
export function scripted(script: (LayerResponse | Error)[]): CallSend & { calls: number } {
  const send = Object.assign(
    (call: Call) => {
      call.attempts++
      const step = script[Math.min(send.calls++, script.length - 1)]!
      return step instanceof Error ? Promise.reject(step) : Promise.resolve(step)
    },
    { calls: 0 },
  )
  return send
}
