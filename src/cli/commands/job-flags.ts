import type { Command } from 'commander'
import type { JobLocation } from '../../redis/job/keys.js'
import { isJobName, JOB_NAME_RULE } from '../../redis/job/name.js'
import type { Io } from '../io.js'
import { UsageError } from '../usage.js'
import { redisUrl } from './request-flags.js'

/** --redis [url] --job <name>: where a distributed job is. submit, work, status and collect share them. */
export interface JobFlags {
  redis?: string | boolean
  job: string
}

export function withJobFlags(command: Command): Command {
  return command
    .requiredOption('--job <name>', `the job's name, the same on every machine: ${JOB_NAME_RULE}`)
    .option('--redis [url]', 'where the job is (default: $REDIS_URL, else redis://127.0.0.1:6379)')
}

/** The job's location, checked. */
export function resolveJobFlags(flags: JobFlags, io: Io): Required<Pick<JobLocation, 'job' | 'url'>> {
  if (!isJobName(flags.job))
    throw new UsageError(`--job must be a name of ${JOB_NAME_RULE}, got ${JSON.stringify(flags.job)}`)
  return {
    job: flags.job,
    url: redisUrl(flags.redis, io),
  }
}
