import type { Clock } from '../../limit/clock.js'
import { type Call, type CallLayer, stopMany } from '../call.js'
import { CircuitOpenError } from '../errors.js'
import type { BreakerPolicy, Circuit } from '../circuit.js'
import type { LayerResponse } from '../pipeline.js'

/** Statuses that say the server refuses or cannot serve anyone now, rather than this one request. */
function isRefusal(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504
}

/**
 * A circuit breaker per origin. A storm of refusals (every answer a 429, every retry refused again)
 * is otherwise ended only by each request giving up in turn, bursts of `concurrency` going out after
 * every pause. After `failures` refusals in a row the circuit opens: attempts to the origin fail at
 * once with a CircuitOpenError, and an `all`/`stream` call stops starting requests (its unsent ones
 * settle as AbortErrors whose `stop` says why). After `cooldown` one attempt probes the origin.
 */
export function circuitBreakerLayer(settings: { policy: BreakerPolicy; clock: Clock }): CallLayer {
  const { policy, clock } = settings
  return (next) => async (call) => {
    const circuit = call.state.circuit
    let probe = false
    if (circuit.isOpen) {
      if (clock.now() < circuit.openUntil || circuit.probing) throw openError(call, circuit, clock)
      circuit.probing = probe = true
    }
    let answer: LayerResponse
    try {
      answer = await next(call)
    } catch (error) {
      if (probe) circuit.probing = false
      throw error
    }
    if (!isRefusal(answer.status)) {
      circuit.failures = 0
      circuit.openUntil = Number.NEGATIVE_INFINITY
      circuit.probing = false
      return answer
    }
    // Sent before the last counted refusal came back: the same burst, already counted.
    if (!probe && call.sentAt <= circuit.refusedAt) return answer
    circuit.failures++
    circuit.refusedAt = clock.now()
    if (probe || (!circuit.isOpen && circuit.failures >= policy.failures)) {
      circuit.openUntil = clock.now() + policy.cooldown
      circuit.probing = false
      stopCall(call, circuit)
    }
    return answer
  }
}

function openError(call: Call, circuit: Circuit, clock: Clock): CircuitOpenError {
  stopCall(call, circuit)
  // Above admission: this attempt was never counted, so `attempts` is what was sent.
  return new CircuitOpenError({
    ...call.info(call.attempts, clock),
    origin: call.origin,
    failures: circuit.failures,
    retryIn: Math.max(0, circuit.openUntil - clock.now()),
  })
}

/** The call this request belongs to starts nothing more: the origin is refusing everyone. */
function stopCall(call: Call, circuit: Circuit): void {
  if (call.many === undefined) return
  const detail = `${call.origin} refused ${circuit.failures} attempts in a row (429/5xx): circuit open`
  stopMany(call.many, { code: 'CIRCUIT_OPEN', origin: call.origin, detail })
}
