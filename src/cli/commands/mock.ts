import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { describeMockServer } from '../../mock/describe.js'
import type { FaultKind, MockServerOptions } from '../../mock/options.js'
import { type MockProfile, PROFILE_NAMES } from '../../mock/profiles/options.js'
import { startMockServer } from '../../mock/server.js'
import { type CommandContext, collect } from '../context.js'
import { duration, oneOf, rates, wholeNumber } from '../flags.js'
import type { Io } from '../io.js'
import { UsageError } from '../usage.js'

interface MockFlags {
  port: string
  host: string
  rate: string[]
  profile?: string
  tokens?: string
  bucket?: string
  maxInFlight?: string
  latency?: string
  faults?: string
  seed?: string
  authEnv?: string
  batchMax?: string
  jobDuration?: string
  tlsCert?: string
  tlsKey?: string
  http2?: boolean
}

const EXAMPLES = `
Examples:
  $ volley mock                                     # http://127.0.0.1:8787, no limits
  $ volley mock --rate 50/s --latency 5ms-40ms --faults 500=0.02,reset=0.01 --seed 42
  $ MOCK_TOKEN=s3cret volley mock --auth-env MOCK_TOKEN --port 0
  $ volley mock --tls-cert cert.pem --tls-key key.pem --http2   # https, HTTP/2 and HTTP/1.1
  $ volley mock --profile openai --rate 60/min --tokens 40000/min # OpenAI's headers and limits
  $ volley mock --profile shopify --rate 2/s --bucket 40          # a leaky bucket

Endpoints include /items/:id, /anything (echo), /status/:code, /delay/:ms, /batch/geocode, /jobs,
/lists/:name (pages in the GitHub, Slack, Stripe, offset and page-number styles),
/v1/chat/completions, /v1/messages and /__stats (what the server saw). See docs/mock.md.`

export function mockCommand(context: CommandContext): Command {
  return new Command('mock')
    .description(
      'Serve the mock API (rate limit, latency, faults, echo, batch and job endpoints) until Ctrl-C',
    )
    .option('-p, --port <port>', 'TCP port (0: any free port)', '8787')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option(
      '-r, --rate <rate>',
      "server-side quota, 429 past it: '50/s', '600/min' (repeatable); with --profile: its request quota",
      collect,
      [],
    )
    .option(
      '--profile <name>',
      `speak and enforce that API's rate-limit dialect: ${PROFILE_NAMES.join(', ')}`,
    )
    .option('--tokens <rate>', "with --profile openai or anthropic: the token quota, '40000/min'")
    .option('--bucket <n>', 'with --profile shopify: the leaky bucket size (it leaks at --rate)')
    .option('--max-in-flight <n>', 'most requests in flight; one more gets 503')
    .option('--latency <ms>', "delay per request: '20ms', or a range '5ms-40ms'")
    .option(
      '--faults <list>',
      "fault probabilities: '500=0.02,503=0.01,429=0.01,reset=0.01,hang=0.001,malformed=0.01'",
    )
    .option('--seed <n>', 'seed of the fault and latency draws')
    .option('--auth-env <var>', 'require Authorization: Bearer <the value of this environment variable>')
    .option('--batch-max <n>', 'most addresses per POST /batch/geocode', '100')
    .option('--job-duration <duration>', 'how long a POST /jobs job stays pending', '1s')
    .option('--tls-cert <file>', 'serve https with this certificate (PEM); with --tls-key')
    .option('--tls-key <file>', 'the private key (PEM) of --tls-cert')
    .option('--http2', 'with --tls-cert, also speak HTTP/2 (negotiated; HTTP/1.1 clients still served)')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: MockFlags) => {
      context.exitCode = await serve(mockOptions(flags, context.io.env), context.io)
    })
}

function mockOptions(flags: MockFlags, env: Io['env']): MockServerOptions {
  const rate = rates('--rate', flags.rate).map((r) => ({ limit: r.limit, interval: r.interval }))
  const profile = profileOption(flags, rate)
  const options: MockServerOptions = {
    port: wholeNumber('--port', flags.port, 0),
    host: flags.host,
    // --rate is the ietf profile's quota, or the other profiles' request quota (in `profile`).
    ...(profile === undefined || profile === 'ietf' ? { rate } : { profile }),
    batchMax: wholeNumber('--batch-max', flags.batchMax ?? '100', 1),
    jobDuration: duration('--job-duration', flags.jobDuration ?? '1s', { positive: false }),
  }
  if (flags.maxInFlight !== undefined)
    options.maxInFlight = wholeNumber('--max-in-flight', flags.maxInFlight, 1)
  if (flags.seed !== undefined) options.seed = wholeNumber('--seed', flags.seed, 0)
  if (flags.latency !== undefined) options.latency = latency(flags.latency)
  if (flags.faults !== undefined) options.faults = faults(flags.faults)
  if (flags.tlsCert !== undefined || flags.tlsKey !== undefined) {
    if (flags.tlsCert === undefined || flags.tlsKey === undefined)
      throw new UsageError('--tls-cert and --tls-key go together: a certificate and its private key')
    options.tls = { cert: pemFile('--tls-cert', flags.tlsCert), key: pemFile('--tls-key', flags.tlsKey) }
  }
  if (flags.http2 === true) {
    if (!options.tls)
      throw new UsageError('--http2 needs --tls-cert and --tls-key: HTTP/2 is negotiated over TLS')
    options.http2 = true
  }
  if (flags.authEnv !== undefined) {
    const token = env[flags.authEnv]
    if (!token) throw new UsageError(`--auth-env ${flags.authEnv}: the environment variable is not set`)
    options.auth = token
  }
  return options
}

/** --profile and the flags that set its limits; undefined without --profile (--rate is then the ietf quota). */
function profileOption(
  flags: MockFlags,
  rate: { limit: number; interval: number }[],
): MockProfile | undefined {
  const name = flags.profile === undefined ? undefined : oneOf('--profile', flags.profile, PROFILE_NAMES)
  const takesTokens = name === 'openai' || name === 'anthropic'
  if (flags.tokens !== undefined && !takesTokens) {
    throw new UsageError('--tokens needs --profile openai or anthropic: the others count requests only')
  }
  if (flags.bucket !== undefined && name !== 'shopify') {
    throw new UsageError('--bucket needs --profile shopify: the only leaky bucket')
  }
  if (name === undefined || name === 'ietf') return name
  if (rate.length > 1) {
    throw new UsageError(`--rate: --profile ${name} takes one request quota, got ${rate.length}`)
  }
  const limits: Record<string, unknown> = { name }
  if (rate[0]) limits.requests = rate[0]
  if (flags.tokens !== undefined) limits.tokens = rates('--tokens', [flags.tokens])[0]
  if (flags.bucket !== undefined) limits.bucket = wholeNumber('--bucket', flags.bucket, 1)
  return limits as MockProfile
}

function pemFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(
      `${flag}: cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code})`,
    )
  }
}

function latency(text: string): MockServerOptions['latency'] {
  const range = /^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$/.exec(text)
  if (!range) return duration('--latency', text, { positive: false })
  return {
    min: duration('--latency', range[1]!, { positive: false }),
    max: duration('--latency', range[2]!, { positive: false }),
  }
}

function faults(text: string): Partial<Record<FaultKind, number>> {
  const out: Record<string, number> = {}
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const [kind, probability] = part.split('=').map((s) => s.trim())
    const p = Number(probability)
    if (!kind || probability === undefined || probability === '' || !Number.isFinite(p)) {
      throw new UsageError(
        `--faults must be a list such as '500=0.02,reset=0.01', got ${JSON.stringify(text)}`,
      )
    }
    out[kind] = p
  }
  return out
}

async function serve(options: MockServerOptions, io: Io): Promise<number> {
  const server = await startMockServer(options).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE')
      throw new UsageError(`--port ${options.port} is in use: pick another, or --port 0 for any free one`)
    throw error
  })
  io.stdout.write(`${describeMockServer(server)}\nCtrl-C to stop.\n`)
  const signal = await new Promise<string>((resolve) => {
    const offs = (['SIGINT', 'SIGTERM'] as const).map((name) =>
      io.onSignal(name, () => {
        for (const off of offs) off()
        resolve(name)
      }),
    )
  })
  await server.close()
  const stats = server.stats()
  io.stderr.write(
    `volley mock: ${signal}: served ${stats.requests} requests (${stats.rateLimited} answered 429); stopped\n`,
  )
  return 0
}
