import { AbortError } from '../errors.js'
import { type RunManyOptions, resolveRunOptions } from './options.js'
import { Pump, type TaskFn } from './pump.js'
import { type Items, sourceOf } from './source.js'

/**
 * Runs `fn` on every item and resolves with the values in input order, or fails fast: the first
 * failure aborts every running task's signal, starts nothing more, and (once running tasks have
 * ended) rejects with an AggregateError holding the failure(s).
 */
export async function group<I, T>(
  items: Items<I>,
  fn: TaskFn<I, T>,
  options?: RunManyOptions,
): Promise<Awaited<T>[]> {
  const resolved = resolveRunOptions(options, 'group')
  const values: Awaited<T>[] = Array.isArray(items) ? new Array(items.length) : []
  const pump = new Pump(sourceOf(items), fn, resolved, {
    failFast: true,
    onResult(result) {
      if (result.ok) values[result.index] = result.value
    },
  })
  await pump.run()
  if (pump.failures.length > 0) {
    throw new AggregateError(
      pump.failures,
      `group: ${pump.failures.length} task(s) failed: ${pump.failures[0]!.message}`,
    )
  }
  if (pump.signal.aborted) {
    const aborted = AbortError.from(pump.signal)
    throw new AggregateError([aborted], `group: ${aborted.message}`)
  }
  return values
}
