/**
 * The harness entry point: a benchmark script describes its contenders and calls `runBench`.
 * The same script then plays two parts: run without `--child`, it is the parent that schedules
 * every measurement (rounds, rotation), each in a fresh child running this same script with
 * `--child <name>`; the child runs that one contender and prints its figures. See README.md.
 *
 * @typedef {'volley' | 'peer' | 'baseline'} Kind
 * @typedef {{ name: string, kind: Kind, run: (params: any) => Promise<Record<string, unknown>>,
 *   params?: (base: any, options: { quick: boolean }) => any, scenarios?: string[] }} Contender
 * @typedef {{ name: string, title: string, params: (options: { quick: boolean }) => any }} Scenario
 * @typedef {{ name: string, title: string, script: string, notes?: string[], packages?: string[],
 *   rounds: { normal: number, quick: number }, scenarios: Scenario[], contenders: Contender[],
 *   columns: import('./report.js').Column[], ratios: import('./report.js').RatioMetric[],
 *   targets?: import('./report.js').Target[], timeoutMs?: number, nodeArgs?: string[],
 *   probe?: () => Promise<() => Promise<Record<string, number>>> }} BenchSpec
 *
 * `probe`, when given, runs in the parent around every measurement: called before the child starts,
 * it resolves with a function called after the child ends, whose figures join the child's (what the
 * target server saw, say).
 */
import { fileURLToPath } from 'node:url'
import { parseBenchArgs } from './args.js'
import { runInChild } from './child.js'
import { describeEnvironment } from './machine.js'
import { figuresTable, ratioTable, summarizeByContender, targetLines } from './report.js'
import { appendResults, writeReport } from './results.js'
import { runRounds } from './rounds.js'
import { measureInChild } from './spawn.js'

/** @param {BenchSpec} spec */
export async function runBench(spec) {
  const args = parseBenchArgs()
  if (args.child) {
    const contender = spec.contenders.find((c) => c.name === args.child.name)
    if (!contender) throw new Error(`${spec.name}: no contender named ${args.child.name}`)
    return runInChild(contender.run, args.child.params)
  }
  const script = fileURLToPath(spec.script)
  const quick = args.quick
  const rounds = args.rounds ?? (quick ? spec.rounds.quick : spec.rounds.normal)
  const header = [`## ${spec.title}`, '', ...describeEnvironment(spec.packages)]
  header.push(`- ${rounds} round(s)${quick ? ' (--quick)' : ''}; every cell: median (min–max) over rounds`)
  const units = spec.scenarios.flatMap((scenario) =>
    selected(spec.contenders, args.only)
      .filter((c) => !c.scenarios || c.scenarios.includes(scenario.name))
      .map((contender) => ({ scenario, contender })),
  )
  const runId = new Date().toISOString()
  const measurements = await runRounds(units, rounds, ({ scenario, contender }, round) => {
    const base = scenario.params({ quick })
    const params = contender.params ? contender.params(base, { quick }) : base
    return measureLogged(spec, script, `round ${round + 1}/${rounds} ${scenario.name}`, contender, params)
  })
  const records = measurements.map(({ unit, round, result }) => ({
    scenario: unit.scenario.name,
    contender: unit.contender.name,
    kind: unit.contender.kind,
    round,
    params: result.params,
    ...result.figures,
  }))
  appendResults(spec.name, runId, records)
  const sections = spec.scenarios.map((scenario) => scenarioSection(spec, scenario, records))
  const markdown = [...header, ...(spec.notes ?? []), '', ...sections].join('\n')
  process.stdout.write(`${markdown}\n`)
  process.stderr.write(`[${spec.name}] report: ${writeReport(spec.name, markdown)}\n`)
}

function selected(contenders, only) {
  if (!only) return contenders
  const unknown = only.filter((name) => !contenders.some((c) => c.name === name))
  if (unknown.length > 0) throw new Error(`--only: no contender named ${unknown.join(', ')}`)
  return contenders.filter((c) => only.includes(c.name))
}

async function measureLogged(spec, script, label, contender, params) {
  const started = performance.now()
  const probed = await spec.probe?.()
  const figures = await measureInChild(script, contender.name, params, spec)
  if (probed && !figures.failed) Object.assign(figures, await probed())
  const wall = ((performance.now() - started) / 1000).toFixed(1)
  const outcome = figures.failed ? `FAILED: ${figures.failed}` : `${wall} s`
  process.stderr.write(`[${spec.name}] ${label} ${contender.name}: ${outcome}\n`)
  return { params, figures }
}

function scenarioSection(spec, scenario, records) {
  const mine = records
    .filter((r) => r.scenario === scenario.name)
    .map((r) => ({ contender: r.contender, result: r }))
  if (mine.length === 0) return ''
  const keys = [...new Set([...spec.columns, ...spec.ratios].map((c) => c.key))]
  const summaries = summarizeByContender(mine, keys)
  const failures = new Map(
    [...summaries.keys()].map((n) => [n, mine.filter((m) => m.contender === n && m.result.failed).length]),
  )
  const names = [...summaries.keys()]
  const kindOf = (name) => spec.contenders.find((c) => c.name === name)?.kind
  const volley = names.filter((n) => kindOf(n) === 'volley')
  const others = names.filter((n) => kindOf(n) !== 'volley')
  const targets = (spec.targets ?? []).filter(
    (t) => (!t.scenario || t.scenario === scenario.name) && summaries.has(t.contender),
  )
  return [
    `### ${scenario.title}`,
    '',
    figuresTable(summaries, spec.columns, failures),
    '',
    ...(volley.length > 0 && others.length > 0
      ? [ratioTable(summaries, volley, others, spec.ratios), '']
      : []),
    ...(targets.length > 0 ? ['Targets:', '', ...targetLines(summaries, targets), ''] : []),
  ].join('\n')
}
