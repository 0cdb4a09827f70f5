/** The next item to run and its input position, or undefined when the input is exhausted. */
export type Pulled<I> = { item: I; index: number } | undefined

/** Items pulled one at a time: arrays and sync iterables answer at once, async iterables with a promise. */
export interface Source<I> {
  next(): Pulled<I> | Promise<Pulled<I>>
  /** No more pulls: the ones already queued answer undefined without asking the iterator. */
  stop(): void
  /** Lets an iterator release what it holds (its `finally` blocks run) when the run stops early. */
  close(): Promise<void>
}

export type Items<I> = readonly I[] | Iterable<I> | AsyncIterable<I>

const OWN_SOURCE: unique symbol = Symbol('volley.ownSource')

/** Items that come with their own Source: see `withSource`. */
type SourcedItems<I> = AsyncIterable<I> & { readonly [OWN_SOURCE]: Source<I> }

/**
 * Items handed out by a Source of their own, for a producer that holds items at hand (the CLI's
 * input, a chunk of lines at a time): `stream`, `all` and `group` pull from it directly, with no
 * promise per item, and take each item's index from it. Anything else iterates them as usual.
 */
export function withSource<I>(source: Source<I>): AsyncIterable<I> {
  const items: SourcedItems<I> = {
    [OWN_SOURCE]: source,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const pulled = await source.next()
          if (!pulled) return
          yield pulled.item
        }
      } finally {
        await source.close()
      }
    },
  }
  return items
}

export function sourceOf<I>(items: Items<I>): Source<I> {
  if (typeof items === 'object' && items !== null && OWN_SOURCE in items)
    return (items as SourcedItems<I>)[OWN_SOURCE]
  if (Array.isArray(items)) return arraySource(items as readonly I[])
  if (items != null && typeof (items as AsyncIterable<I>)[Symbol.asyncIterator] === 'function') {
    return asyncSource((items as AsyncIterable<I>)[Symbol.asyncIterator]())
  }
  if (items != null && typeof (items as Iterable<I>)[Symbol.iterator] === 'function') {
    return syncSource((items as Iterable<I>)[Symbol.iterator]())
  }
  throw new TypeError(`items must be an array, an iterable or an async iterable, got ${typeof items}`)
}

function arraySource<I>(items: readonly I[]): Source<I> {
  let index = 0
  let end = items.length
  return {
    next: () => (index < end ? { item: items[index]!, index: index++ } : undefined),
    stop: () => {
      end = 0
    },
    close: async () => {},
  }
}

function syncSource<I>(iterator: Iterator<I>): Source<I> {
  let index = 0
  let done = false
  let stopped = false
  return {
    next() {
      if (done || stopped) return undefined
      const step = iterator.next()
      if (step.done) {
        done = true
        return undefined
      }
      return { item: step.value, index: index++ }
    },
    stop() {
      stopped = true
    },
    async close() {
      if (!done) {
        done = true
        iterator.return?.()
      }
    },
  }
}

function asyncSource<I>(iterator: AsyncIterator<I>): Source<I> {
  let index = 0
  let done = false
  let stopped = false
  // Workers pull concurrently; an async iterator must see one `next()` at a time.
  let tail: Promise<unknown> = Promise.resolve()
  const pull = async (): Promise<Pulled<I>> => {
    if (done || stopped) return undefined
    const step = await iterator.next()
    if (step.done) {
      done = true
      return undefined
    }
    return { item: step.value, index: index++ }
  }
  return {
    next() {
      const pulled = tail.then(pull)
      tail = pulled.catch(() => {})
      return pulled
    },
    stop() {
      stopped = true
    },
    async close() {
      await tail
      if (!done) {
        done = true
        await iterator.return?.()
      }
    },
  }
}
