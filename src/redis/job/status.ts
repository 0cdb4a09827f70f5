import { JobError } from '../../errors.js'
import { type JobLocation, keyList, openJob } from './keys.js'
import { STATUS } from './scripts.js'

export interface WorkerStatus {
  name: string
  /** Its lease has not run out: it is working, or waiting for lines. */
  alive: boolean
  /** It stopped and gave its lines back. */
  left: boolean
  /** Ms since it last reached Redis. */
  lastSeenMs: number
  /** Lines whose result it recorded first. */
  done: number
  /** Lines it ran whose result another worker had recorded first. */
  duplicates: number
  /** Lines it holds now (claimed, not recorded). */
  claimed: number
  /** Its lines per second since it joined. */
  rate: number
}

export interface JobStatus {
  job: string
  /** submitting: submit is still adding lines; queued: all are in; complete: every line has a result. */
  state: 'submitting' | 'queued' | 'complete'
  /** Lines in the job; null while submitting. */
  total: number | null
  queued: number
  /** Lines with a result. */
  done: number
  ok: number
  failed: number
  /** Lines claimed by a worker and not recorded yet. */
  claimed: number
  /** Runs of a line after its result was recorded (at-least-once delivery: a worker presumed dead came back). */
  duplicates: number
  /** Lines taken over from workers silent past their lease. */
  takenOver: number
  /** Lines held by a worker when it died, not recorded yet: each runs alone (see WorkOptions.poisonAfter). */
  suspects: number
  workers: WorkerStatus[]
  /** Lines per second of the live workers together. */
  rate: number
  /** At that rate, the ms left; null when nothing is running or the total is not known yet. */
  remainingMs: number | null
  /**
   * Ms until its keys (and results) expire: `ttl` after its last result, or, while lines are left,
   * `ttl` (at least 7 days) after a submit or a worker last touched it. Null for an incomplete job
   * written by a version that did not expire them.
   */
  expiresInMs: number | null
}

/** Where a job stands, read from Redis at one instant (one round trip). */
export async function jobStatus(location: JobLocation): Promise<JobStatus> {
  const { name, keys, connection } = openJob(location, 'jobStatus')
  try {
    const reply = (await connection.run(STATUS, keyList(keys), [])) as unknown[]
    if (reply[0] === 'gone')
      throw new JobError(
        'JOB_NOT_FOUND',
        `no job ${name} in Redis at ${connection.where}: submit it first (or it expired)`,
      )
    const [, now, metaList, done, claimed, claimList, workerList, deadlineList, suspects] = reply as [
      string,
      number,
      string[],
      number,
      number,
      [string, string][],
      string[],
      string[],
      number,
    ]
    const meta = pairs(metaList)
    const claims = new Map(claimList.map(([worker, count]) => [worker, Number(count)]))
    const deadlines = pairs(deadlineList)
    const fields = new Map<string, Record<string, number>>()
    for (const [field, value] of Object.entries(pairs(workerList))) {
      const at = field.lastIndexOf(':')
      const worker = field.slice(0, at)
      const entry = fields.get(worker) ?? {}
      entry[field.slice(at + 1)] = Number(value)
      fields.set(worker, entry)
    }
    const workers = [...fields].map(([worker, f]): WorkerStatus => {
      const seen = f.seen ?? f.first ?? now
      const deadline = deadlines[worker]
      const workedMs = Math.max(1, seen - (f.first ?? seen))
      return {
        name: worker,
        alive: deadline !== undefined && Number(deadline) >= now,
        left: f.left !== undefined,
        lastSeenMs: Math.max(0, now - seen),
        done: f.done ?? 0,
        duplicates: f.dupes ?? 0,
        claimed: claims.get(worker) ?? 0,
        rate: ((f.done ?? 0) * 1000) / workedMs,
      }
    })
    const total = meta.total === undefined ? null : Number(meta.total)
    const complete = meta.completed !== undefined
    const rate = workers.filter((w) => w.alive).reduce((sum, w) => sum + w.rate, 0)
    return {
      job: name,
      state: complete ? 'complete' : meta.state === 'queued' ? 'queued' : 'submitting',
      total,
      queued: Number(meta.queued ?? 0),
      done,
      ok: Number(meta.ok ?? 0),
      failed: Number(meta.failed ?? 0),
      claimed,
      duplicates: Number(meta.dupes ?? 0),
      takenOver: Number(meta.taken ?? 0),
      suspects,
      workers,
      rate,
      remainingMs: complete ? 0 : total === null || rate === 0 ? null : ((total - done) * 1000) / rate,
      expiresInMs: expiresIn(meta, now),
    }
  } finally {
    await connection.close()
  }
}

/** Ms from `now` until the keys expire, as the scripts set it (or, for an older job, `ttl` after it completed). */
function expiresIn(meta: Record<string, string>, now: number): number | null {
  const at =
    meta.expires ?? (meta.completed === undefined ? undefined : Number(meta.completed) + Number(meta.ttl))
  return at === undefined ? null : Math.max(0, Number(at) - now)
}

function pairs(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < list.length; i += 2) out[list[i]!] = list[i + 1]!
  return out
}
