import type { AbortError } from '../../errors.js'
import type { Clock } from '../../limit/clock.js'
import { sleep } from '../../limit/sleep.js'
import type { Call, CallLayer } from '../call.js'
import { requestAbortError } from '../errors.js'
import type { Emitter } from '../events.js'
import { failureOutcome, isRetryable, type RetryPolicy, retryDelay } from '../retry.js'
import { shownUrl } from '../spec.js'

export interface RetrySettings {
  policy: RetryPolicy
  /** Whether a Retry-After pauses the origin (the limiter then does the waiting). */
  adaptive: boolean
  clock: Clock
  random: () => number
  emitter: Emitter
  /** Aborts when the client closes: a backoff ends at once, and the next attempt finds it closed. */
  closing: AbortSignal
}

/**
 * The outermost layer: sends again what failed in a way worth retrying (a status in the policy, a
 * timeout, a broken connection) after the server's Retry-After or a jittered backoff, while the
 * request may be resent and attempts remain. What it gives up on settles as it came.
 */
export function retryLayer(settings: RetrySettings): CallLayer {
  const { policy } = settings
  return (next) => async (call) => {
    const maxAttempts = call.resendable ? policy.attempts : 1
    for (;;) {
      let answer
      try {
        answer = await next(call)
      } catch (error) {
        const { outcome, reason } = failureOutcome(error)
        if (call.attempts >= maxAttempts || !isRetryable(policy, outcome)) throw error
        await backOff(call, reason, undefined, undefined, settings)
        continue
      }
      const status = answer.status
      // A refusal that says when to come back (a 403 over GitHub's limits, say) is retried then.
      const retryable = isRetryable(policy, { kind: 'status', status }) || answer.retryAfter !== undefined
      if (status < 400 || call.attempts >= maxAttempts || !retryable) return answer
      await backOff(call, `status ${status}`, status, answer.retryAfter, settings)
    }
  }
}

/** Waits before the next attempt: the server's Retry-After, or jittered backoff. */
async function backOff(
  call: Call,
  reason: string,
  status: number | undefined,
  retryAfter: number | undefined,
  settings: RetrySettings,
): Promise<void> {
  // A 429, or any answer that said when to come back, is a refusal: never straight back.
  const refused = status === 429 || retryAfter !== undefined
  const { delay, source } = retryDelay(settings.policy, call.attempts, retryAfter, settings.random(), refused)
  // With adaptive on, a Retry-After already paused the whole origin: the limiter does the waiting.
  const wait = source === 'retry-after' && settings.adaptive ? 0 : delay
  if (settings.emitter.has.retry) {
    settings.emitter.emit('retry', {
      method: call.method,
      url: shownUrl(call.req),
      origin: call.origin,
      attempt: call.attempts,
      reason,
      status,
      delay,
      source,
      id: call.id,
    })
  }
  if (wait <= 0) return
  const { closing } = settings
  const waitSignal = call.waitSignal
  try {
    await sleep(settings.clock, wait, waitSignal ? AbortSignal.any([waitSignal, closing]) : closing)
  } catch (error) {
    if (closing.aborted) return
    throw requestAbortError(call.info(call.attempts, settings.clock), error as AbortError)
  }
}
