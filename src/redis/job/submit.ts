import { createHash, randomBytes } from 'node:crypto'
import { describeValue, InvalidOptionError, JobError } from '../../errors.js'
import { type Duration, parseDuration } from '../../limit/units.js'
import { type JobLocation, keyList, openJob } from './keys.js'
import { FINISH, SUBMIT } from './scripts.js'
import { DEFAULT_JOB_TTL_MS, MIN_JOB_TTL_MS, MIN_JOB_TTL_REASON } from './ttl.js'

/** One input line of a job: what a worker is handed, and a hash of it (its identity on a resubmit). */
export interface JobLine {
  data: string
  /** @default the first 16 hex digits of SHA-256 over `data` */
  hash?: string
}

export interface SubmitOptions extends JobLocation {
  /** The job's lines, in order: line numbers count from 1. Read as they are queued (memory stays bounded). */
  lines: AsyncIterable<string | JobLine> | Iterable<string | JobLine>
  /**
   * How long the job's keys (its results included) stay in Redis after its last line's result; at
   * least 1 minute. A job left incomplete goes this long, and at least 7 days, after a submit or a
   * worker last touched it (counted from the end of a live worker's lease), so a job its workers
   * abandoned does not stay forever. @default '7d'
   */
  ttl?: Duration
}

export interface SubmitOutcome {
  /** Lines this call added. */
  queued: number
  /** Lines the job holds. */
  total: number
  /** The same input was already submitted in full: nothing was added. */
  already: boolean
  /** Lines an earlier submit of the same input had queued before it stopped (this call went on after them). */
  resumed: number
}

const CHUNK_LINES = 500
const CHUNK_BYTES = 1 << 20

/**
 * Queues a job's lines in Redis. Submitting the same input again is a no-op (or finishes an earlier
 * submit that stopped); another input under the same job name is refused with JOB_MISMATCH, naming
 * the first line that differs. The input is compared through a running fingerprint of its lines'
 * hashes, so it is read once and never held.
 */
export async function submitJob(options: SubmitOptions): Promise<SubmitOutcome> {
  const { name, keys, connection } = openJob(options, 'submitJob')
  const ttl = parseDuration(options.ttl ?? DEFAULT_JOB_TTL_MS, 'submitJob: option `ttl`')
  if (ttl < MIN_JOB_TTL_MS)
    throw new InvalidOptionError(
      `submitJob: option \`ttl\` must be at least 1 minute (${MIN_JOB_TTL_REASON}), got ${describeValue(options.ttl)}`,
    )
  const { lines } = options
  if (
    lines === null ||
    typeof lines !== 'object' ||
    !(Symbol.asyncIterator in lines || Symbol.iterator in lines)
  )
    throw new InvalidOptionError(
      `submitJob: option \`lines\` must be an iterable of lines, got ${describeValue(lines)}`,
    )
  const keyArgs = keyList(keys)
  // Told to SUBMIT with every chunk, used by the one that creates the job: its workers check it.
  const epoch = randomBytes(8).toString('hex')
  try {
    const meta = (await connection.call('HMGET', [keys.meta, 'state', 'queued', 'fingerprint'])) as (
      string | null
    )[]
    const [state, queuedText, storedPrint] = meta
    const stored = { queued: Number(queuedText ?? 0), fingerprint: storedPrint ?? '' }
    const complete = state === 'queued'
    let line = 0
    let print = ''
    let queued = 0
    let chunk: (string | number)[] = []
    let chunkBytes = 0
    const mismatch = (detail: string) =>
      new JobError(
        'JOB_MISMATCH',
        `job ${name} already holds ${complete ? '' : 'the first '}${stored.queued} line(s) of another input (${detail}): give another job name, or the same input`,
      )
    const flush = async () => {
      if (chunk.length === 0 && line > 0) return
      const reply = (await connection.run(SUBMIT, keyArgs, [
        line - chunk.length / 2,
        print,
        ttl,
        epoch,
        ...chunk,
      ])) as [string, number]
      if (reply[0] !== 'ok') throw moved(name, reply)
      queued += chunk.length / 2
      chunk = []
      chunkBytes = 0
    }
    for await (const item of lines as AsyncIterable<string | JobLine>) {
      const { data, hash } = lineOf(item, line + 1)
      line++
      print = createHash('sha256').update(`${print}\n${hash}`).digest('hex').slice(0, 32)
      if (line <= stored.queued) {
        if (line === stored.queued && print !== stored.fingerprint)
          throw mismatch(`line ${line} or one before it differs`)
        continue
      }
      if (complete) throw mismatch(`this input has more lines`)
      chunk.push(hash, data)
      chunkBytes += data.length
      if (chunk.length >= CHUNK_LINES * 2 || chunkBytes >= CHUNK_BYTES) await flush()
    }
    if (line < stored.queued) throw mismatch(`this input has only ${line} line(s)`)
    if (complete) return { queued: 0, total: line, already: true, resumed: 0 }
    await flush()
    const finished = (await connection.run(FINISH, keyArgs, [line])) as [string, number]
    if (finished[0] !== 'ok') throw moved(name, finished)
    return { queued, total: line, already: false, resumed: Math.min(stored.queued, line) }
  } finally {
    await connection.close()
  }
}

function lineOf(item: string | JobLine, line: number): { data: string; hash: string } {
  const data = typeof item === 'string' ? item : item?.data
  if (typeof data !== 'string')
    throw new InvalidOptionError(
      `submitJob: line ${line} must be a string or { data: string }, got ${describeValue(item)}`,
    )
  const given = typeof item === 'string' ? undefined : item.hash
  if (given !== undefined && typeof given !== 'string')
    throw new InvalidOptionError(
      `submitJob: line ${line}'s hash must be a string, got ${describeValue(given)}`,
    )
  return { data, hash: given ?? createHash('sha256').update(data).digest('hex').slice(0, 16) }
}

function moved(name: string, reply: [string, number]): JobError {
  return new JobError(
    'JOB_MISMATCH',
    reply[0] === 'queued'
      ? `job ${name} was submitted in full by another submit meanwhile (${reply[1]} lines)`
      : `another submit is adding lines to job ${name} (it holds ${reply[1]}): run one submit at a time`,
  )
}
