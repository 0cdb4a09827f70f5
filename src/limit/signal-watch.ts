/**
 * Queued tasks by the signal that can abort them. Tasks often share one signal (a whole `all`
 * call, say): one abort listener per signal, not per task, keeps Node from warning about too many
 * listeners and costs less per task.
 */
export class SignalWatch<N extends { readonly signal: AbortSignal | undefined }> {
  readonly #bySignal = new Map<AbortSignal, { nodes: Set<N>; onAbort: () => void }>()
  readonly #onAbort: (signal: AbortSignal, nodes: ReadonlySet<N>) => void

  /** `onAbort` gets the signal that aborted and the nodes still watched on it. */
  constructor(onAbort: (signal: AbortSignal, nodes: ReadonlySet<N>) => void) {
    this.#onAbort = onAbort
  }

  watch(signal: AbortSignal, node: N): void {
    let watch = this.#bySignal.get(signal)
    if (!watch) {
      const nodes = new Set<N>()
      const onAbort = () => {
        this.#bySignal.delete(signal)
        this.#onAbort(signal, nodes)
      }
      watch = { nodes, onAbort }
      this.#bySignal.set(signal, watch)
      signal.addEventListener('abort', onAbort, { once: true })
    }
    watch.nodes.add(node)
  }

  /** Stops watching a node that has left the queue; returns it for settling. */
  detach(node: N): N {
    const signal = node.signal
    const watch = signal && this.#bySignal.get(signal)
    if (watch?.nodes.delete(node) && watch.nodes.size === 0) {
      signal!.removeEventListener('abort', watch.onAbort)
      this.#bySignal.delete(signal!)
    }
    return node
  }
}
