import { type RunManyOptions, resolveRunOptions } from './options.js'
import { Pump, type TaskFn } from './pump.js'
import type { Result } from './result.js'
import { type Items, sourceOf } from './source.js'

/**
 * Runs `fn` on every item with bounded concurrency (and a rate, or a shared limiter) and resolves
 * with every Result in input order once all have settled. Never rejects for a task's failure.
 */
export async function all<I, T>(
  items: Items<I>,
  fn: TaskFn<I, T>,
  options?: RunManyOptions,
): Promise<Result<Awaited<T>, I>[]> {
  const resolved = resolveRunOptions(options, 'all')
  const results: Result<Awaited<T>, I>[] = Array.isArray(items) ? new Array(items.length) : []
  const pump = new Pump(sourceOf(items), fn, resolved, {
    onResult(result) {
      results[result.index] = result
    },
  })
  await pump.run()
  return results
}
