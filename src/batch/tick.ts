const resolved = Promise.resolve()

/**
 * Calls `fn` once the promise jobs already queued have run, and the ones they queue in turn: a
 * `process.nextTick` queued from inside a promise job runs only after the whole microtask queue
 * has drained (DataLoader's enqueuePostPromiseJob). So every load made in the current tick, even
 * after an `await` of an already-settled promise, joins the batch, and no timer is involved.
 */
export function afterPromiseJobs(fn: () => void): void {
  resolved.then(() => process.nextTick(fn))
}
