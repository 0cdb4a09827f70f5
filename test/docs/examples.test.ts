import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Every code example in README.md and docs/*.md is compiled (strict) and, when its fence says
// ```ts run, run, against the packed package installed in a consumer project: what users copy works.

const root = fileURLToPath(new URL('../..', import.meta.url))
const exec = promisify(execFile)

/** Fence languages that are compiled, with the extension their module gets. */
const checked: Record<string, string> = {
  ts: '.ts',
  typescript: '.ts',
  js: '.js',
  javascript: '.js',
  mjs: '.mjs',
}
/** Shell sessions, JSON and plain text are shown, not checked. */
const unchecked = new Set(['', 'sh', 'json'])

interface Block {
  /** `docs/http.md:9`: the markdown file and the line of the opening fence. */
  id: string
  source: string
  fenceLine: number
  lang: string
  run: boolean
  /** Fenced ```js peer: another library's code, shown beside volley's (docs/migrating.md), not ours to compile. */
  peer: boolean
  code: string
}

function extractBlocks(source: string): Block[] {
  const blocks: Block[] = []
  let open: (Omit<Block, 'code'> & { lines: string[] }) | undefined
  for (const [i, text] of readFileSync(path.join(root, source), 'utf8').split('\n').entries()) {
    const fence = /^\s*```(.*)$/.exec(text)
    if (!fence) open?.lines.push(text)
    else if (open) {
      const { lines, ...block } = open
      blocks.push({ ...block, code: lines.join('\n') + '\n' })
      open = undefined
    } else {
      const [lang = '', ...flags] = fence[1]!.trim().split(/\s+/)
      open = {
        id: `${source}:${i + 1}`,
        source,
        fenceLine: i + 1,
        lang,
        run: flags.includes('run'),
        peer: flags.includes('peer'),
        lines: [],
      }
    }
  }
  if (open) throw new Error(`${open.id}: the code fence is never closed`)
  return blocks
}

const sources = ['README.md', ...readdirSync(path.join(root, 'docs')).map((f) => `docs/${f}`)]
  .filter((f) => f.endsWith('.md'))
  .sort()
const blocks = sources.flatMap(extractBlocks)
const examples = blocks.filter((b) => b.lang in checked && !b.peer)

/** Where a block's module lives in the consumer project, e.g. `examples/docs__http.md_9.ts`. */
const moduleOf = (b: Block) => `examples/${b.source.replaceAll('/', '__')}_${b.fenceLine}${checked[b.lang]}`

/** `npm pack`, unpacked into a consumer project whose dependencies resolve to the repo's installed ones. */
async function installConsumer(dir: string): Promise<void> {
  const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
  })
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
  const { dependencies } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
  const modules = path.join(dir, 'node_modules')
  await mkdir(path.join(modules, 'volley'), { recursive: true })
  await mkdir(path.join(modules, '@types'))
  await mkdir(path.join(dir, 'examples'))
  await exec('tar', [
    '-xzf',
    path.join(dir, filename),
    '-C',
    path.join(modules, 'volley'),
    '--strip-components=1',
  ])
  // What `npm install volley` brings (npm's offline cache lacks some of it), plus what a consumer
  // writing tests in TypeScript has.
  for (const name of [...Object.keys(dependencies), '@types/node', 'vitest']) {
    await symlink(path.join(root, 'node_modules', name), path.join(modules, name), 'dir')
  }
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(consumerTsconfig, null, 2))
  await copyFile(path.join(root, 'test/docs/ambient.d.ts'), path.join(dir, 'ambient.d.ts'))
  for (const b of examples) await writeFile(path.join(dir, moduleOf(b)), b.code)
}

/** A strict consumer's settings; every example is a module, so top-level await works in all of them. */
const consumerTsconfig = {
  compilerOptions: {
    strict: true,
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    moduleDetection: 'force',
    types: ['node'],
    allowJs: true,
    checkJs: true,
    rootDir: '.',
    outDir: 'out',
  },
  include: ['examples', 'ambient.d.ts'],
}

/** One tsc run over every example: its diagnostics as `docs/http.md:21: TS2339 ...`, and the JS emitted. */
function compile(dir: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(dir, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    },
  )!
  const program = ts.createProgram(config.fileNames, config.options)
  const { diagnostics: emitDiagnostics } = program.emit()
  const blockOf = new Map(examples.map((b) => [path.join(dir, moduleOf(b)), b]))
  const all = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...emitDiagnostics]
  const found = all.map((d) => {
    const message = `TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n  ')}`
    if (!d.file || d.start === undefined) return message
    const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1
    const block = blockOf.get(path.resolve(d.file.fileName))
    if (block) return `${block.source}:${block.fenceLine + line}: ${message}`
    return `${path.relative(dir, d.file.fileName)}:${line}: ${message}`
  })
  return found.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })) // in reading order
}

let consumer: string
let diagnostics: string[]

describe('code examples in README.md and docs/*.md', () => {
  beforeAll(async () => {
    consumer = await mkdtemp(path.join(tmpdir(), 'volley-docs-'))
    await installConsumer(consumer)
    diagnostics = compile(consumer)
  }, 60_000)
  afterAll(() => rm(consumer, { recursive: true, force: true }))

  it('every fence is in a language checked here, or one knowingly left alone (run only where checked)', () => {
    const unknown = blocks.filter((b) => !b.peer && !(b.lang in checked) && (b.run || !unchecked.has(b.lang)))
    expect(unknown.map((b) => `${b.id}: \`\`\`${b.lang}${b.run ? ' run' : ''}`)).toEqual([])
  })

  it('every ts/js example compiles, strict, against the packed package', () => {
    expect(diagnostics).toEqual([])
  })

  // Examples fenced ```ts run use only what they start themselves (a mock server, a limiter) and
  // the tests' Redis (REDIS_URL, else 127.0.0.1:6379): no network. From the repo's root, so an
  // example may read the test fixtures.
  it.for(examples.filter((b) => b.run))('$id runs offline and exits 0 by itself', async (b) => {
    const js = path.join(consumer, 'out', moduleOf(b).replace(/\.ts$/, '.js'))
    await exec(process.execPath, [js], { cwd: root, timeout: 20_000 })
  })
})
