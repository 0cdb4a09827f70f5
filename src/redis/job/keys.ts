import type { Redis } from 'ioredis'
import { describeValue, InvalidOptionError } from '../../errors.js'
import { type Duration, parseDuration } from '../../limit/units.js'
import { maskUrl } from '../../redact.js'
import { RedisConnection } from '../connection.js'
import { isJobName, JOB_NAME_RULE } from './name.js'

/** Where a job lives: its name and the Redis that holds it. Every job function takes these. */
export interface JobLocation {
  /** The job's name: letters, digits and `._:-`, up to 200 characters. */
  job: string
  /** @default 'redis://127.0.0.1:6379' */
  url?: string
  /** An ioredis client to use instead of opening one; never closed by volley. */
  client?: Redis
  /** Put before every key of the job. @default 'volley:' */
  prefix?: string
  /** Ms a Redis command may take before it fails (own connection only). @default 5_000 */
  commandTimeout?: Duration
}

/**
 * The job's keys. The hash tag `{name}` keeps them in one Redis Cluster slot, so one script can
 * touch them all.
 */
export interface JobKeys {
  /** Hash: queued, total, fingerprint, state, counts, ttl, completed. */
  meta: string
  /** Stream of the lines (entry id `<line>-0`), read through the consumer group `workers`. */
  lines: string
  /** Hash: line number -> its first result. */
  results: string
  /** Sorted set: worker -> when its lease ends (ms); a past deadline means its lines may be taken. */
  deadlines: string
  /** Hash: `<worker>:first|seen|lease|done|dupes|lost|left`, and `<worker>:last`: the lines of its last RECORD. */
  workers: string
  /**
   * Hash of the lines suspected of ending their workers: `s:<line>` -> how many workers died while
   * running it alone, `a:<line>` -> the worker running it alone now. Absent while no worker has died.
   */
  suspects: string
}

/** The consumer group of a job's stream. */
export const GROUP = 'workers'

export interface OpenJob {
  name: string
  keys: JobKeys
  connection: RedisConnection
}

/** Checks the location, naming what is wrong, and opens its connection. */
export function openJob(location: JobLocation, caller: string): OpenJob {
  if (typeof location !== 'object' || location === null)
    throw new InvalidOptionError(`${caller}: options must be an object, got ${describeValue(location)}`)
  const { job } = location
  if (!isJobName(job)) {
    throw new InvalidOptionError(
      `${caller}: option \`job\` must be a name of ${JOB_NAME_RULE}, got ${describeValue(job)}`,
    )
  }
  const url = location.url ?? 'redis://127.0.0.1:6379'
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new InvalidOptionError(
      `${caller}: option \`url\` must be a redis:// or rediss:// URL, got ${describeValue(typeof url === 'string' ? maskUrl(url) : url)}`,
    )
  }
  const prefix = location.prefix ?? 'volley:'
  if (typeof prefix !== 'string')
    throw new InvalidOptionError(
      `${caller}: option \`prefix\` must be a string, got ${describeValue(prefix)}`,
    )
  const base = `${prefix}job:{${job}}:`
  const commandTimeout = parseDuration(
    location.commandTimeout ?? 5_000,
    `${caller}: option \`commandTimeout\``,
  )
  return {
    name: job,
    keys: {
      meta: `${base}meta`,
      lines: `${base}lines`,
      results: `${base}results`,
      deadlines: `${base}deadlines`,
      workers: `${base}workers`,
      suspects: `${base}suspects`,
    },
    connection: new RedisConnection({
      url,
      client: location.client,
      connectTimeout: 5_000,
      commandTimeout,
      consequence: `job ${job} cannot be read or its results recorded`,
    }),
  }
}

/** The keys in the order the scripts take them. */
export function keyList(keys: JobKeys): string[] {
  return [keys.meta, keys.lines, keys.results, keys.deadlines, keys.workers, keys.suspects]
}

/** A stream entry's id for an input line, and back. */
export const entryId = (line: number): string => `${line}-0`
export const lineOf = (id: string): number => Number(id.slice(0, id.indexOf('-')))
