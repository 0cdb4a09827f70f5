import { type Call, type CallLayer, type ManyCall, stopMany } from '../call.js'
import { shownUrl } from '../spec.js'

/**
 * Stops an `all`/`stream`/`group` call when one of its attempts is answered a status in its
 * `stopOn` (401 by default: the other 99 requests would be refused too). What has not started
 * settles as an AbortError whose `stop` says why; requests outside such a call pass straight through.
 */
export const stopOnStatusLayer: CallLayer = (next) => (call) => {
  const many = call.many
  if (many === undefined) return next(call)
  return next(call).then(
    (answer) => {
      stopIfListed(many, call, answer.status)
      return answer
    },
    (error: unknown) => {
      // A refusal the layers below turned into an error (a Retry-After past maxRetryAfter) has a status too.
      const status = (error as { status?: unknown } | undefined)?.status
      if (typeof status === 'number') stopIfListed(many, call, status)
      throw error
    },
  )
}

function stopIfListed(many: ManyCall, call: Call, status: number): void {
  if (!many.stopOn.has(status)) return
  const detail = `${call.method} ${shownUrl(call.req)} answered ${status}, which is in stopOn`
  stopMany(many, { code: 'STOP_ON_STATUS', status, detail })
}
