/** A job's name: it goes into Redis keys and Idempotency-Keys, so it is kept to a safe alphabet. */
const NAME = /^[A-Za-z0-9._:-]{1,200}$/

export const JOB_NAME_RULE = 'letters, digits and . _ : - (up to 200)'

export function isJobName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value)
}
