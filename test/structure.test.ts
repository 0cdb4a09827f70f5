import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, test } from 'vitest'

// Rules of the source tree that no linter checks: one home per concern, files a reader can hold.
const SRC = join(import.meta.dirname, '..', 'src')
const MAX_LINES = 400

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

const files = sources(SRC).map((path) => ({ name: relative(SRC, path), text: readFileSync(path, 'utf8') }))

describe('the source tree', () => {
  test(`no source file is over ${MAX_LINES} lines`, () => {
    const long = files
      .map((f) => ({ name: f.name, lines: f.text.split('\n').length }))
      .filter((f) => f.lines > MAX_LINES)
    expect(long).toEqual([])
  })

  test('no two exported functions, classes or constants share a name (no twins)', () => {
    const byName = new Map<string, string[]>()
    const declaration = /^export (?:async )?(?:function\*?|class|const|abstract class) ([A-Za-z0-9_$]+)/gm
    for (const { name, text } of files) {
      for (const [, exported] of text.matchAll(declaration)) {
        byName.set(exported!, [...(byName.get(exported!) ?? []), name])
      }
    }
    const twins = [...byName].filter(([, where]) => where.length > 1)
    expect(twins).toEqual([])
  })
})
