import cliProgress from 'cli-progress'
import type { Clock } from '../../limit/clock.js'
import type { OutStream } from '../io.js'
import { progressText } from './format.js'
import type { RunStats } from './stats.js'

/** Shows a run's progress while it goes. The summary at the end is printed separately. */
export interface Reporter {
  start(stats: RunStats): void
  /** A message that must not be overwritten by the bar (a stop, an interrupt). */
  note(text: string): void
  stop(): void
}

export type ReporterKind = 'tty' | 'plain' | 'none'

/** A progress bar redrawn in place (cli-progress), for a terminal. */
export function ttyReporter(stream: OutStream, clock: Clock): Reporter {
  let bar: cliProgress.SingleBar | undefined
  let cancel: (() => void) | undefined
  return {
    start(stats) {
      bar = new cliProgress.SingleBar(
        {
          stream: stream as unknown as NodeJS.WritableStream,
          hideCursor: true,
          clearOnComplete: false,
          format: (options, params) => {
            const bar = stats.total ? `${renderBar(params.progress, 24, options)} ` : ''
            return `${bar}${progressText(stats)}`
          },
        },
        cliProgress.Presets.shades_classic,
      )
      bar.start(stats.total ?? 0, 0)
      cancel = every(clock, 200, () => {
        if (stats.total !== undefined) bar?.setTotal(stats.total)
        bar?.update(stats.previouslyDone + stats.done)
      })
    },
    note(text) {
      stream.write(`\n${text}\n`)
    },
    stop() {
      cancel?.()
      bar?.stop()
    },
  }
}

function renderBar(progress: number, width: number, options: cliProgress.Options): string {
  const filled = Math.round(Math.min(1, Math.max(0, progress)) * width)
  return (
    (options.barCompleteString ?? '█').slice(0, filled) +
    (options.barIncompleteString ?? '░').slice(0, width - filled)
  )
}

/** A plain line every `intervalMs`, for CI logs and pipes (no escape codes, nothing redrawn). */
export function plainReporter(stream: OutStream, intervalMs: number, clock: Clock): Reporter {
  let cancel: (() => void) | undefined
  return {
    start(stats) {
      cancel = every(clock, intervalMs, () => stream.write(`volley: ${progressText(stats)}\n`))
    },
    note(text) {
      stream.write(`${text}\n`)
    },
    stop() {
      cancel?.()
    },
  }
}

/** Calls `fn` every `ms` on the clock (which has one-shot timers only); returns the function that stops it. */
function every(clock: Clock, ms: number, fn: () => void): () => void {
  let timer = clock.setTimer(function tick() {
    fn()
    timer = clock.setTimer(tick, ms)
  }, ms)
  return () => clock.clearTimer(timer)
}

/** --quiet and --json: no progress; notes still go out (to stderr), they explain the exit code. */
export function silentReporter(stream: OutStream): Reporter {
  return { start() {}, note: (text) => stream.write(`${text}\n`), stop() {} }
}
