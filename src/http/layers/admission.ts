import { AbortError, ClosedError } from '../../errors.js'
import type { Clock } from '../../limit/clock.js'
import type { Cost } from '../../limit/cost.js'
import type { TaskContext } from '../../limit/task.js'
import { type CallLayer, responseTo } from '../call.js'
import { requestAbortError } from '../errors.js'
import type { Response } from '../response.js'
import { shownUrl } from '../spec.js'

/**
 * Each attempt waits for its origin's limiter (a concurrency slot, every rate, any pause) and holds
 * the slot until its answer has been read. A wait that is aborted settles as an AbortError naming
 * the request and the attempts it had made.
 */
export function admissionLayer(settings: {
  clock: Clock
  isClosed: () => boolean
  /** ClientOptions.usage: a 2xx answer's real cost, settled with the limiter before the slot goes. */
  usage?: ((response: Response) => Cost | undefined) | undefined
}): CallLayer {
  const { usage, clock } = settings
  return (next) => (call) => {
    call.attempts++
    // A shared limiter outlives the client: after close() no attempt may start on its closed dispatcher.
    if (settings.isClosed()) {
      return Promise.reject(
        new ClosedError(
          `Client: closed before attempt ${call.attempts} of ${call.method} ${shownUrl(call.req)}`,
        ),
      )
    }
    let started = false
    const limiter = call.state.limiter
    const asked = clock.now()
    const rateBefore = limiter.waitedForRate
    const attempt = (context: TaskContext) => {
      started = true
      const now = clock.now()
      const wait = now - asked
      // The limiter's wait for a rate over this attempt's wait: the rest of it was for a slot.
      const rate = Math.min(wait, limiter.waitedForRate - rateBefore)
      call.timings.attempts.push({ at: asked - call.start, wait, rate, ms: 0 })
      call.sent = context.sent
      if (!usage) return next(call)
      return next(call).then((answer) => {
        if (answer.status < 200 || answer.status >= 300) return answer
        const used = usage(responseTo(call, answer, clock))
        if (used !== undefined) context.used(used)
        return answer
      })
    }
    const cost = call.req.cost
    // A cost in tokens is scaled by what the server has shown the estimates to be worth.
    const options =
      cost === undefined ? call.runOptions : { ...call.runOptions, cost: call.state.scaled(cost) }
    return limiter.run(attempt, options).catch((error: unknown) => {
      if (started || !(error instanceof AbortError)) throw error
      throw requestAbortError(call.info(call.attempts - 1, clock), error)
    })
  }
}
