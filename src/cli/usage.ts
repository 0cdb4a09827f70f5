/** Bad usage or bad input the run cannot start with: exit code 2, message naming the flag and value. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** The API refused request after request (an origin's circuit opened): what was not sent is left for --resume. */
  refused: 3,
  interrupted: 130,
} as const
