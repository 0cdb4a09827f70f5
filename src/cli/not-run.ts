import type { ClientError } from '../http/errors.js'

/**
 * The API refuses us for now: the origin's circuit opened (this request was refused at once, or its
 * call stopped for it), or the server asked for a wait past maxRetryAfter before it was sent.
 */
export function isRefusal(error: ClientError): boolean {
  switch (error.code) {
    case 'RATE_LIMITED':
      return error.attempts === 0
    case 'CIRCUIT_OPEN':
      return true
    case 'ABORTED':
      return error.stop?.code === 'CIRCUIT_OPEN'
    default:
      return false
  }
}

/**
 * Why a request was not carried out, when that was volley's choice or failure and not the API's
 * answer: cancelled by a stop, or refused because the shared limit's store failed. Such results are
 * not written, so --resume runs them. Undefined for a result to write.
 */
export function notRunReason(error: ClientError): string | undefined {
  switch (error.code) {
    case 'ABORTED':
      return error.stop?.detail ?? error.message
    case 'RATE_LIMITED':
      // Not sent: the server had asked for a wait past maxRetryAfter. Sent and refused is a result.
      return isRefusal(error) ? error.message : undefined
    case 'CIRCUIT_OPEN':
    case 'CLOSED':
    case 'STORE_UNAVAILABLE':
    case 'STORE_FAILED':
      return error.message
    default:
      return undefined
  }
}
