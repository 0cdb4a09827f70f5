import v8 from 'node:v8'
import vm from 'node:vm'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Heap in use after a full collection: what is really retained, not garbage waiting for the GC. */
export function retainedHeap(): number {
  gc()
  return process.memoryUsage().heapUsed
}
