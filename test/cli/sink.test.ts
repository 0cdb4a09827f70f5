import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileSink } from '../../src/cli/output/sink.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function outFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'volley-sink-'))
  dirs.push(dir)
  return join(dir, 'out.jsonl')
}
const turnEnds = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('the output file, written in groups', () => {
  it('writes the lines of one turn together when the turn ends, and counts each once it is in the file', async () => {
    const path = outFile()
    const counted: number[] = []
    const sink = fileSink(path, false, (n: number) => counted.push(n))
    for (const n of [1, 2, 3]) sink.write(`{"index":${n}}\n`, n)
    expect(readFileSync(path, 'utf8')).toBe('')
    expect(counted).toEqual([])
    await turnEnds()
    expect(readFileSync(path, 'utf8')).toBe('{"index":1}\n{"index":2}\n{"index":3}\n')
    expect(counted).toEqual([1, 2, 3])
    sink.close()
  })

  it('writes at once past 64 KiB queued, and flush() and close() write what is left', () => {
    const path = outFile()
    const sink = fileSink(path, false)
    const line = `${'x'.repeat(1023)}\n`
    for (let n = 0; n < 64; n++) sink.write(line)
    expect(readFileSync(path, 'utf8').length).toBe(64 * 1024)
    sink.write('tail\n')
    sink.flush()
    expect(readFileSync(path, 'utf8').endsWith('tail\n')).toBe(true)
    sink.write('last\n')
    sink.close()
    expect(readFileSync(path, 'utf8').endsWith('tail\nlast\n')).toBe(true)
  })

  it('appends to what the file holds (--resume), and sync() writes what is queued first', () => {
    const path = outFile()
    const first = fileSink(path, false)
    first.write('{"job":"a"}\n')
    first.sync()
    expect(readFileSync(path, 'utf8')).toBe('{"job":"a"}\n')
    first.close()
    const again = fileSink(path, true)
    again.write('{"index":1}\n')
    again.close()
    expect(readFileSync(path, 'utf8')).toBe('{"job":"a"}\n{"index":1}\n')
  })
})
