import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { positiveInteger } from '../core/auth/user-token-verifier.js'
import { StoreUnavailableError } from './store-unavailable.js'

/**
 * An ioredis connection: a `Redis` or a `Cluster` (every key the stores use is one key per
 * command, so they work on a cluster too).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import type { RedisClient } from 'evotor-partner/redis'
 * const client: RedisClient = new Redis(process.env.REDIS_URL!)
 * ```
 */
export type RedisClient = Redis | Cluster

/**
 * Options every Redis store shares.
 *
 * @example
 * ```ts
 * import type { RedisStoreOptions } from 'evotor-partner/redis'
 * const common: RedisStoreOptions = { client, prefix: 'shop-42:evotor:', commandTimeoutMs: 500 }
 * ```
 */
export interface RedisStoreOptions {
  /** The ioredis client. The store never closes it and never adds listeners to it. */
  client: RedisClient
  /** Prepended to every key and channel, so that several services can share one Redis. Default `'evotor-partner:'`. */
  prefix?: string
  /**
   * How long one command may take before the store gives up with {@link StoreUnavailableError}
   * (then the delivery answers 503 and the cloud re-sends it), in ms. Default `1_000`: a webhook
   * makes a few commands and Evotor waits 10 s (protocol §5.1).
   */
  commandTimeoutMs?: number
}

/** Statuses in which ioredis has no connection: fail at once rather than queue behind a reconnect. */
const DOWN = new Set(['reconnecting', 'close', 'end'])

/**
 * The validated common options plus a bounded command runner.
 *
 * @internal
 */
export interface RedisContext {
  readonly client: RedisClient
  readonly prefix: string
  /** Runs one client call; a down client, a timeout or an error become StoreUnavailableError. */
  run<T>(operation: string, call: () => Promise<T>): Promise<T>
  /** EVALSHA, falling back to EVAL when the server does not have the script yet. */
  script(
    operation: string,
    script: RedisScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown>
}

/**
 * A Lua script with its SHA-1, computed once when the store is created.
 *
 * @internal
 */
export interface RedisScript {
  readonly source: string
  readonly sha: string
}

/** @internal */
export function redisScript(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source, 'utf8').digest('hex') }
}

/**
 * Validates the shared options of a Redis store factory (TypeErrors name the option).
 *
 * @internal
 */
export function redisContext(factory: string, options: RedisStoreOptions): RedisContext {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${factory}: \`options\` must be an object`)
  }
  const { client, prefix = 'evotor-partner:' } = options
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.set !== 'function' ||
    typeof client.evalsha !== 'function'
  ) {
    throw new TypeError(`${factory}: \`client\` must be an ioredis Redis or Cluster client`)
  }
  if (typeof prefix !== 'string' || prefix.length > 256) {
    throw new TypeError(`${factory}: \`prefix\` must be a string of at most 256 characters`)
  }
  const timeoutMs = positiveInteger(factory, 'commandTimeoutMs', options.commandTimeoutMs, 1_000)

  const run = <T>(operation: string, call: () => Promise<T>): Promise<T> => {
    if (DOWN.has(client.status)) return Promise.reject(new StoreUnavailableError('redis', operation))
    let pending: Promise<T>
    try {
      pending = call()
    } catch (error) {
      return Promise.reject(new StoreUnavailableError('redis', operation, error))
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreUnavailableError('redis', operation)), timeoutMs)
      timer.unref?.()
      pending.then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          // After a timeout this rejection has no listener left; it is handled here, never unhandled.
          clearTimeout(timer)
          reject(new StoreUnavailableError('redis', operation, error))
        },
      )
    })
  }

  const script = async (
    operation: string,
    { source, sha }: RedisScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> => {
    try {
      return await run(operation, () => client.evalsha(sha, keys.length, ...keys, ...args))
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || !isNoScript(error.cause)) throw error
      // A restarted or flushed server forgot the script: EVAL loads it again.
      return run(operation, () => client.eval(source, keys.length, ...keys, ...args))
    }
  }

  return { client, prefix, run, script }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}
