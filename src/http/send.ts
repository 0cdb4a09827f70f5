import { AbortError } from '../errors.js'
import type { Call, CallSend } from './call.js'
import {
  BodyTooLargeError,
  InvalidRequestError,
  NetworkError,
  RedirectError,
  requestAbortError,
  TimeoutError,
} from './errors.js'
import type { Emitter } from './events.js'
import type { LayerResponse } from './pipeline.js'
import { shownUrl } from './spec.js'
import { redactUrl } from '../redact.js'
import {
  AttemptFailure,
  type RawResponse,
  type RedirectRefusal,
  sendAttempt,
  type TransportSettings,
} from './transport.js'

export interface SendSettings extends TransportSettings {
  emitter: Emitter
  /** Ms per attempt unless the request sets its own. */
  timeout: number
}

/**
 * The innermost step: one attempt on the wire (redirects and body included), told to the `request`
 * and `response` listeners. An attempt that produced no response rejects with its public error.
 */
export function createSend(settings: SendSettings): CallSend {
  const { clock, emitter } = settings
  return async (call) => {
    const req = call.req
    if (emitter.has.request) {
      emitter.emit('request', {
        method: req.method,
        url: shownUrl(req),
        origin: req.origin,
        attempt: call.attempts,
        id: req.id,
      })
    }
    // Not yet on the wire: a cold connection may take longer than a warm one sent later, so the
    // time the request left (what the server's count follows) is taken when it is written (onSent).
    call.sentAt = Number.NEGATIVE_INFINITY
    const began = clock.now()
    let raw: RawResponse
    try {
      raw = await sendAttempt(req, settings, call, req.timeout ?? settings.timeout)
    } catch (failure) {
      const error = publicError(failure as AttemptFailure, call, settings)
      call.failed(clock, (error as Error & { code?: string }).code ?? 'ERROR')
      throw error
    }
    // A dispatcher that never said it wrote the request (a custom one): it went out when it began.
    if (call.sentAt === Number.NEGATIVE_INFINITY) call.sentAt = began
    call.answered(clock, raw.status)
    if (emitter.has.response) {
      emitter.emit('response', {
        method: req.method,
        url: shownUrl(req),
        origin: req.origin,
        status: raw.status,
        attempt: call.attempts,
        ms: clock.now() - began,
        id: req.id,
      })
    }
    const answer = raw as RawResponse & { retryAfter: number | undefined }
    answer.retryAfter = undefined
    return answer satisfies LayerResponse
  }
}

/** The public error of an attempt that produced no response. */
function publicError(failure: AttemptFailure, call: Call, settings: SendSettings): Error {
  const info = call.info(call.attempts, settings.clock)
  switch (failure.kind) {
    case 'timeout':
      return new TimeoutError({ ...info, timeout: call.req.timeout ?? settings.timeout })
    case 'network':
      return new NetworkError(info, failure.reason as Error)
    case 'too-large':
      return new BodyTooLargeError({ ...info, limit: settings.maxBodySize })
    case 'redirect': {
      const { reason, status, location } = failure.reason as RedirectRefusal
      const shown = location === undefined ? undefined : redactUrl(location)
      return new RedirectError({ ...info, status, reason, location: shown })
    }
    case 'invalid':
      return new InvalidRequestError(
        'request',
        `${info.method} ${info.url}: ${(failure.reason as Error).message}`,
      )
    default: {
      const reason = failure.reason
      const abort = reason instanceof AbortError ? reason : AbortError.from(AbortSignal.abort(reason))
      return requestAbortError(info, abort)
    }
  }
}
