import { JobError } from '../../errors.js'
import { type JobLocation, openJob } from './keys.js'

export interface CollectedLine {
  line: number
  result: string
}

export interface CollectOptions extends JobLocation {
  /** Called once the job's extent is known, before the first line: how many lines it has, and how many have a result. */
  onStart?(job: { total: number | null; queued: number; done: number }): void
}

const BATCH = 1_000

/**
 * The job's results, in input order, each line's once: those recorded so far (collecting while the
 * workers work gives the lines done up to now). Reads a thousand lines per round trip; the results
 * stay in Redis until the job's keys expire.
 */
export async function* collectJob(options: CollectOptions): AsyncGenerator<CollectedLine, void, undefined> {
  const { name, keys, connection } = openJob(options, 'collectJob')
  try {
    const [total, queued] = (await connection.call('HMGET', [keys.meta, 'total', 'queued'])) as (
      string | null
    )[]
    if (queued === null || queued === undefined)
      throw new JobError(
        'JOB_NOT_FOUND',
        `no job ${name} in Redis at ${connection.where}: submit it first (or it expired)`,
      )
    const done = (await connection.call('HLEN', [keys.results])) as number
    options.onStart?.({
      total: total === null || total === undefined ? null : Number(total),
      queued: Number(queued),
      done,
    })
    const last = Number(queued)
    for (let from = 1; from <= last; from += BATCH) {
      const lines = Array.from({ length: Math.min(BATCH, last - from + 1) }, (_, i) => from + i)
      const results = (await connection.call('HMGET', [keys.results, ...lines])) as (string | null)[]
      for (let i = 0; i < lines.length; i++) {
        const result = results[i]
        if (result !== null && result !== undefined) yield { line: lines[i]!, result }
      }
    }
  } finally {
    await connection.close()
  }
}
