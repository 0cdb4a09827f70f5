import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { type StoreError, StoreFailedError, StoreUnavailableError } from '../errors.js'
import { systemClock } from '../limit/clock.js'
import { redisAddress } from '../redact.js'

/** A Lua script run by its SHA1 (one round trip), sent in full only when Redis does not know it yet. */
export class RedisScript {
  readonly sha: string

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex')
  }
}

export interface ConnectionOptions {
  url: string
  /** A client the caller owns: used as is, never closed by the store. */
  client: Redis | undefined
  /** Ms the first connection may take before calls fail. */
  connectTimeout: number
  /** Ms a command may take before it fails (own client only; a given client keeps its settings). */
  commandTimeout: number
  /** What cannot happen while Redis is away, for the message. @default the shared limit's */
  consequence?: string
}

/**
 * One Redis connection for commands (plus one for pub/sub, opened on first use), with the rule the
 * store depends on: a call either reaches Redis or fails at once with a StoreUnavailableError.
 * Nothing is queued while Redis is away, so a lost connection fails tasks instead of stalling them.
 */
export class RedisConnection {
  readonly client: Redis
  /** Where Redis is, for messages: the URL without user name or password. */
  readonly where: string
  /** Commands sent (each is one round trip): for benchmarks and the "one or two per task" tests. */
  roundTrips = 0
  readonly #owned: boolean
  readonly #connectTimeout: number
  readonly #consequence: string
  #everReady: boolean
  #lastError: Error | undefined
  #subscriber: Redis | undefined
  #closed = false

  constructor(options: ConnectionOptions) {
    this.#owned = options.client === undefined
    this.#connectTimeout = options.connectTimeout
    this.#consequence = options.consequence ?? 'the shared limit cannot be checked, so nothing starts'
    this.client =
      options.client ??
      new Redis(options.url, {
        // Fail commands caught by a dropped connection at the first reconnect attempt instead of
        // retrying them for seconds: the Limiter then rejects the task with a clear error.
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeout,
        connectTimeout: options.connectTimeout,
        retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      })
    this.where = options.client ? describeClient(options.client) : redisAddress(options.url)
    this.#everReady = this.client.status === 'ready'
    this.client.on('ready', this.#onReady)
    // Without a listener ioredis prints connection errors to the console; the library never does.
    this.client.on('error', this.#onError)
  }

  /** Runs a script: one round trip (two the first time Redis sees it). */
  async run(
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    await this.#whenReady()
    this.roundTrips++
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(isReplyError(error) && error.message.startsWith('NOSCRIPT'))) throw this.#wrap(error)
    }
    this.roundTrips++
    try {
      return await this.client.eval(script.lua, keys.length, ...keys, ...args)
    } catch (error) {
      throw this.#wrap(error)
    }
  }

  /** Sends one plain command (one round trip), failing as `run` does. */
  async call(command: string, args: readonly (string | number)[]): Promise<unknown> {
    await this.#whenReady()
    this.roundTrips++
    try {
      return await this.client.call(command, ...args)
    } catch (error) {
      throw this.#wrap(error)
    }
  }

  /** The connection for pub/sub, opened on first use (a subscribed connection can send nothing else). */
  subscriber(): Redis {
    if (!this.#subscriber) {
      this.#subscriber = this.client.duplicate()
      this.#subscriber.on('error', this.#onError)
    }
    return this.#subscriber
  }

  /** Closes the pub/sub connection, and the command connection if the store opened it. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const connections = this.#owned ? [this.#subscriber, this.client] : [this.#subscriber]
    this.client.off('ready', this.#onReady)
    if (!this.#owned) this.client.off('error', this.#onError)
    await Promise.all(
      connections.map(async (connection) => {
        if (!connection) return
        // QUIT waits for replies still due; a connection that is down has nothing to wait for.
        if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect())
        else connection.disconnect()
      }),
    )
  }

  /** True when the error means Redis could not be asked (as opposed to Redis answering an error). */
  static isUnavailable(error: unknown): error is StoreUnavailableError {
    return error instanceof StoreUnavailableError
  }

  readonly #onReady = () => {
    this.#everReady = true
    this.#lastError = undefined
  }

  readonly #onError = (error: Error) => {
    this.#lastError = error
  }

  async #whenReady(): Promise<void> {
    if (this.client.status === 'ready') return
    if (this.#closed) throw new StoreUnavailableError(`Redis store for ${this.where} is closed`)
    // Once connected, or once a connection attempt failed, calls fail at once while Redis is away:
    // queued tasks must not pile up behind reconnection attempts.
    if (this.#everReady || this.#lastError || this.client.status === 'end') throw this.#unavailable()
    // The first connection is still on its way: give it connectTimeout.
    if (this.client.status === 'wait') this.client.connect().catch(() => {})
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        systemClock.clearTimer(timer)
        this.client.off('ready', onReady)
        this.client.off('error', onError)
        if (error) reject(this.#unavailable(error))
        else resolve()
      }
      const onReady = () => done()
      const onError = (error: Error) => done(error)
      // Real time, not the store's `clock`: a test's manual clock stands still while a socket connects.
      const timer = systemClock.setTimer(
        () => done(new Error(`no connection after ${this.#connectTimeout} ms`)),
        this.#connectTimeout,
      )
      this.client.once('ready', onReady)
      this.client.once('error', onError)
    })
  }

  #unavailable(cause = this.#lastError): StoreUnavailableError {
    const reason = cause ? `: ${cause.message}` : ` (connection ${this.client.status})`
    return new StoreUnavailableError(
      `Redis at ${this.where} is unreachable${reason}; ${this.#consequence}`,
      cause ? { cause } : undefined,
    )
  }

  #wrap(error: unknown): StoreError {
    if (isReplyError(error)) {
      return new StoreFailedError(`Redis at ${this.where} answered an error: ${error.message}`, {
        cause: error,
      })
    }
    return this.#unavailable(error instanceof Error ? error : new Error(String(error)))
  }
}

/** Redis answered with an error (ioredis's ReplyError, from redis-errors, which has no types). */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError'
}

function describeClient(client: Redis): string {
  const { host, port, db, path } = client.options
  if (path) return `unix:${path}`
  return `redis://${host ?? '127.0.0.1'}:${port ?? 6379}${db ? `/${db}` : ''}`
}
