/** Bad usage or bad input the run cannot start with: exit code 2, message naming the flag and value. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
} as const
