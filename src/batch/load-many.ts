import { setMaxListeners } from 'node:events'
import { describeValue, InvalidOptionError } from '../errors.js'
import { type Result, toError } from '../run/result.js'
import type { LoadOptions } from './options.js'

/**
 * Loads every item and resolves with a Result for each, in order; never rejects for one item (a
 * bad item is a failed Result). `items` must be iterable, and a string is refused rather than taken
 * as its characters.
 */
export async function loadMany<K, V>(
  load: (item: K, options?: LoadOptions) => Promise<V>,
  items: Iterable<K>,
  options?: LoadOptions,
): Promise<Result<V, K>[]> {
  const iterable = items as unknown
  if (
    typeof iterable === 'string' ||
    iterable instanceof String ||
    typeof (iterable as Partial<Iterable<K>> | null | undefined)?.[Symbol.iterator] !== 'function'
  ) {
    throw new InvalidOptionError(
      `batcher.loadMany(items): \`items\` must be an array or another iterable of items (a string is not taken as its characters), got ${describeValue(items)}`,
    )
  }
  const signal = options?.signal
  // One listener on the caller's signal however many items: the loads listen to a signal of ours
  // (one listener each would make Node warn of a leak past ten).
  const relay = signal && !signal.aborted ? new AbortController() : undefined
  const forward = relay && (() => relay.abort(signal!.reason))
  if (forward) {
    setMaxListeners(0, relay.signal)
    signal!.addEventListener('abort', forward, { once: true })
  }
  const loadOptions = relay ? { signal: relay.signal } : options
  try {
    return await Promise.all(
      Array.from(items, (item, index) =>
        load(item, loadOptions).then(
          (value): Result<V, K> => ({ ok: true, value, index, item }),
          (error: unknown): Result<V, K> => ({ ok: false, error: toError(error), index, item }),
        ),
      ),
    )
  } finally {
    if (forward) signal!.removeEventListener('abort', forward)
  }
}
