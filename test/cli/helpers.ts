import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { type MockServer, type MockServerOptions, startMockServer } from '../../src/mock/index.js'

/** The built CLI: tests run it as a user would (`npm test` builds first). */
export const BIN = resolve(import.meta.dirname, '../../dist/cli/bin.js')

export interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface Spawned {
  child: ChildProcess
  done: Promise<CliRun>
}

const children = new Set<ChildProcess>()

/** Starts `node dist/cli/bin.js ...args`; `done` resolves when it exits. */
export function spawnCli(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, CI: 'true', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin!.end(options.stdin ?? '')
  const done = new Promise<CliRun>((resolveRun) => {
    child.on('close', (code, signal) => {
      children.delete(child)
      resolveRun({ code, signal, stdout, stderr })
    })
  })
  return { child, done }
}

/** Runs the CLI to the end. */
export function runCli(args: readonly string[], options?: Parameters<typeof spawnCli>[1]): Promise<CliRun> {
  return spawnCli(args, options).done
}

/** For afterAll: no child outlives its test file. */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
}

/** A fresh temporary directory, and a function writing files into it. */
export function tempDir(): {
  dir: string
  file: (name: string, content: string) => string
  remove: () => void
} {
  const dir = mkdtempSync(join(tmpdir(), 'volley-cli-test-'))
  return {
    dir,
    file: (name, content) => {
      const path = join(dir, name)
      writeFileSync(path, content)
      return path
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

export interface OutputLine {
  id: string | number
  index: number
  hash: string
  ok: boolean
  status: number | null
  attempts: number
  ms: number
  json?: any
  text?: string
  error?: { code: string; message: string; status?: number }
}

/** The result lines of an output file (every line must be whole JSON), without its first line, the job's. */
export function readOutput(path: string): OutputLine[] {
  if (!existsSync(path)) return []
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as OutputLine | { job: string })
  if (lines.length > 0) {
    // The job's line: its id, and the --rate, --paginate and --items given when there were.
    const { job, rate, paginate, items, ...other } = lines[0] as Record<string, unknown>
    if (paginate !== undefined) expect(paginate).toEqual(expect.any(String))
    if (items !== undefined) expect(items).toEqual(expect.any(String))
    expect({ job, other }).toEqual({ job: expect.any(String), other: {} })
    if (rate !== undefined) expect(rate).toEqual(expect.arrayContaining([expect.any(String)]))
  }
  return lines.slice(1) as OutputLine[]
}

/** Lines of a file ending in '\n' so far (cheap enough to poll). */
export function countLines(path: string): number {
  if (!existsSync(path)) return 0
  const data = readFileSync(path)
  let n = 0
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++
  return n
}

/** Waits until `check` holds, polling; fails after `ms` (a bound, not a timing assertion). */
export async function waitFor(check: () => boolean, ms = 20_000, what = 'a condition'): Promise<void> {
  const deadline = performance.now() + ms
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 15))
  }
}

/**
 * Runs the CLI until its output has `target` lines (a count, not a timer: the kill lands mid-run
 * however slow the machine is), then SIGKILLs it. The run as it ended (killed, or done before).
 */
export async function killAtLines(args: readonly string[], out: string, target: number): Promise<CliRun> {
  const { child, done } = spawnCli(args)
  let exited = false
  void done.then(() => (exited = true))
  await waitFor(() => exited || countLines(out) >= target, 60_000, `${target} output lines`)
  child.kill('SIGKILL')
  return done
}

/** Each index of `lines` in order; throws naming a duplicate. */
export function indexCounts(lines: readonly OutputLine[]): Map<number, number> {
  const counts = new Map<number, number>()
  for (const line of lines) counts.set(line.index, (counts.get(line.index) ?? 0) + 1)
  return counts
}

/** A server and a temporary directory for one test file, started before and removed after it (children killed too). */
export function serverFixture<S extends { close(): Promise<void> }>(
  start: () => Promise<S>,
): { readonly server: S; tmp: ReturnType<typeof tempDir> } {
  const tmp = tempDir()
  let server: S | undefined
  beforeAll(async () => {
    server = await start()
  })
  afterAll(async () => {
    killChildren()
    await server?.close()
    tmp.remove()
  })
  return {
    get server() {
      return server!
    },
    tmp,
  }
}

/** A mock API and a temporary directory for one test file. */
export function cliFixture(options?: MockServerOptions): {
  readonly mock: MockServer
  tmp: ReturnType<typeof tempDir>
} {
  const fixture = serverFixture(() => startMockServer(options))
  return {
    get mock() {
      return fixture.server
    },
    tmp: fixture.tmp,
  }
}

/** Every input line 1..total has exactly one result line. */
export function expectEachLineOnce(lines: readonly OutputLine[], total: number): void {
  const counts = indexCounts(lines)
  expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
  expect([...counts.values()].every((count) => count === 1)).toBe(true)
}
