/**
 * The harness entry point: a benchmark script describes its contenders and calls `runBench`.
 * The same script then plays two parts: run without `--child`, it is the parent that schedules
 * every measurement (rounds, rotation), each in a fresh child running this same script with
 * `--child <name>`; the child runs that one contender and prints its figures. See README.md.
 *
 * @typedef {'volley' | 'volley-baseline' | 'peer' | 'baseline'} Kind
 * @typedef {{ name: string, kind: Kind, run: (params: any) => Promise<Record<string, unknown>>,
 *   params?: (base: any, options: { quick: boolean }) => any, scenarios?: string[],
 *   env?: Record<string, string> }} Contender
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
 *
 * With `--baseline DIR`, every volley contender also runs as "<name> (baseline)" (kind
 * 'volley-baseline'), its child loading volley from DIR (see volley.js), interleaved with the rest;
 * the report adds a "volley ÷ baseline" table and gives the baseline rows their own peer ratios.
 */
import { fileURLToPath } from 'node:url'
import { parseBenchArgs } from './args.js'
import { runInChild } from './child.js'
import { describeEnvironment } from './machine.js'
import { baselineTable, figuresTable, ratioTable, summarizeByContender, targetLines } from './report.js'
import { appendResults, writeReport } from './results.js'
import { runRounds } from './rounds.js'
import { measureInChild } from './spawn.js'
import { VOLLEY_DIST_ENV } from './volley.js'

const BASELINE = ' (baseline)'

/** @param {BenchSpec} spec */
export async function runBench(spec) {
  const args = parseBenchArgs()
  if (args.child) {
    // A baseline child runs the same contender; VOLLEY_BENCH_DIST (from the parent) picks the build.
    const name = args.child.name.endsWith(BASELINE)
      ? args.child.name.slice(0, -BASELINE.length)
      : args.child.name
    const contender = spec.contenders.find((c) => c.name === name)
    if (!contender) throw new Error(`${spec.name}: no contender named ${args.child.name}`)
    return runInChild(contender.run, args.child.params)
  }
  const script = fileURLToPath(spec.script)
  const quick = args.quick
  const rounds = args.rounds ?? (quick ? spec.rounds.quick : spec.rounds.normal)
  const header = [`## ${spec.title}`, '', ...describeEnvironment(spec.packages)]
  if (args.baseline) header.push(`- Baseline: "<name>${BASELINE}" rows load volley from ${args.baseline}`)
  const contenders = withBaselines(spec.contenders, args.baseline)
  header.push(`- ${rounds} round(s)${quick ? ' (--quick)' : ''}; every cell: median (min–max) over rounds`)
  const units = spec.scenarios.flatMap((scenario) =>
    selected(contenders, args.only)
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
  const sections = spec.scenarios.map((scenario) => scenarioSection(spec, contenders, scenario, records))
  const markdown = [...header, ...(spec.notes ?? []), '', ...sections].join('\n')
  process.stdout.write(`${markdown}\n`)
  process.stderr.write(`[${spec.name}] report: ${writeReport(spec.name, markdown)}\n`)
}

/** Each volley contender once more against the build in `dist` (a `--baseline` run). */
function withBaselines(contenders, dist) {
  if (!dist) return contenders
  const baselines = contenders
    .filter((c) => c.kind === 'volley')
    .map((c) => ({
      ...c,
      name: `${c.name}${BASELINE}`,
      kind: 'volley-baseline',
      env: { [VOLLEY_DIST_ENV]: dist },
    }))
  return [...contenders, ...baselines]
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
  const figures = await measureInChild(script, contender.name, params, { ...spec, env: contender.env })
  if (probed && !figures.failed) Object.assign(figures, await probed())
  const wall = ((performance.now() - started) / 1000).toFixed(1)
  const outcome = figures.failed ? `FAILED: ${figures.failed}` : `${wall} s`
  process.stderr.write(`[${spec.name}] ${label} ${contender.name}: ${outcome}\n`)
  return { params, figures }
}

function scenarioSection(spec, contenders, scenario, records) {
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
  const kindOf = (name) => contenders.find((c) => c.name === name)?.kind
  const isVolley = (name) => kindOf(name) === 'volley' || kindOf(name) === 'volley-baseline'
  const volley = names.filter(isVolley)
  const others = names.filter((n) => !isVolley(n))
  const pairs = names
    .filter((n) => kindOf(n) === 'volley' && summaries.has(`${n}${BASELINE}`))
    .map((n) => [n, `${n}${BASELINE}`])
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
    ...(pairs.length > 0 ? [baselineTable(summaries, pairs, spec.ratios), ''] : []),
    ...(targets.length > 0 ? ['Targets:', '', ...targetLines(summaries, targets), ''] : []),
  ].join('\n')
}
