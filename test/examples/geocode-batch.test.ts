import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

// The README's batcher example, run as users run it (from dist: `npm test` builds first), so the
// documented code cannot drift from the library.
const script = fileURLToPath(new URL('../../examples/geocode-batch.mjs', import.meta.url))

describe('examples/geocode-batch.mjs', () => {
  it('geocodes 1,000 addresses in 10 batch calls, then the same through 10 polled jobs', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 25_000 })
    expect(stdout).toMatch(/"loads":1000,.*"batches":10,.*"largestBatch":100.*server saw 10 batch calls/)
    expect(stdout).toMatch(/"loads":1000,.*"batches":10,.*server saw 10 jobs/)
    expect(stdout).toMatch(/1 Baker St, London -> \{ lat: -?\d+\.\d+, lng: -?\d+\.\d+ \}/)
  })
})
