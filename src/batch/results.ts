import { describeValue, VolleyError } from '../errors.js'

const CONTRACT =
  'the batch function must resolve to an array with one result per key, in the order of the keys, ' +
  'or to a Map or plain object keyed by key'

/** The batch function broke its contract; every key of the batch is rejected with this error. */
export class BatchContractError extends VolleyError {
  /** What the batch function returned. */
  readonly result: unknown

  constructor(keyCount: number, result: unknown) {
    const got = Array.isArray(result) ? `an array of ${result.length}` : describeValue(result)
    super('BATCH_CONTRACT', `batcher: ${CONTRACT}; given ${keyCount} key(s) it returned ${got}`)
    this.result = result
  }
}

/** A Map or object result had no entry for this key. */
export class MissingResultError extends VolleyError {
  readonly key: unknown

  constructor(key: unknown) {
    super(
      'MISSING_RESULT',
      `batcher: the batch function returned no result for key ${describeValue(key)} ` +
        '(a Map or object result must hold every key it was given; put an Error there to fail one key)',
    )
    this.key = key
  }
}

/** Returned by a lookup for a key that has no entry. */
export const MISSING: unique symbol = Symbol('missing')

/**
 * How to find each key's result in what the batch function returned: by position in an array
 * aligned with the keys, or by key in a Map or plain object (an object's keys are strings, so the
 * key is looked up as `String(key)`). Throws BatchContractError for anything else, or for an
 * array of the wrong length: off-by-one results would hand callers each other's data.
 */
export function resultLookup(
  results: unknown,
  keyCount: number,
): (position: number, key: unknown) => unknown {
  if (Array.isArray(results)) {
    if (results.length !== keyCount) throw new BatchContractError(keyCount, results)
    return (position) => results[position]
  }
  if (results instanceof Map) {
    return (_, key) => (results.has(key) ? results.get(key) : MISSING)
  }
  if (typeof results === 'object' && results !== null) {
    const proto = Object.getPrototypeOf(results)
    if (proto === Object.prototype || proto === null) {
      const record = results as Record<string, unknown>
      return (_, key) => (Object.hasOwn(record, String(key)) ? record[String(key)] : MISSING)
    }
  }
  throw new BatchContractError(keyCount, results)
}
