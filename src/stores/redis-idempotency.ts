import { randomUUID } from 'node:crypto'
import { positiveInteger } from '../core/auth/user-token-verifier.js'
import type { ClaimResult, IdempotencyStore } from '../core/idempotency.js'
import { type RedisStoreOptions, redisContext, redisScript } from './redis-command.js'
import { StoreUnavailableError } from './store-unavailable.js'

const FACTORY = 'createRedisIdempotencyStore'
const DAY = 24 * 60 * 60_000
const DONE = 'done'

/** Deletes the claim only while it is still ours: a lease that expired may belong to another holder now. */
const RELEASE =
  redisScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

/**
 * Options of {@link createRedisIdempotencyStore}.
 *
 * @example
 * ```ts
 * import type { RedisIdempotencyStoreOptions } from 'evotor-partner/redis'
 * const options: RedisIdempotencyStoreOptions = { client, completedTtlMs: 3 * 24 * 60 * 60_000 }
 * ```
 */
export interface RedisIdempotencyStoreOptions extends RedisStoreOptions {
  /**
   * How long a handled delivery is remembered, in ms. Default 7 days (Evotor retries for 3 days,
   * protocol §6.5).
   */
  completedTtlMs?: number
}

/**
 * Creates an {@link IdempotencyStore} on Redis, shared by every instance of the service: a
 * delivery that one instance handled or is handling is not run again by another.
 *
 * - `claim` is one `SET key <holder> PX leaseMs NX GET`: atomic, one round trip, and a holder
 *   that crashes frees its claim when the lease expires; the value that refused a claim tells
 *   `'done'` from `'in-progress'`. (On Redis before 7.0, which lacks `NX` with `GET`, a refused
 *   `SET … NX` reads the key in a second command.)
 * - `complete` is one `SET key done PX completedTtlMs`: the key is kept as done for that long.
 * - `release` deletes the claim only while this store instance still holds it (a Lua script).
 *
 * Keys are opaque: whatever the dispatcher passes, under `<prefix>idem:`. When Redis is down or
 * slower than `commandTimeoutMs`, every method rejects with {@link StoreUnavailableError} and the
 * delivery answers 503 with `Retry-After`. Nothing connects or allocates until the first call.
 *
 * @param options - The ioredis client, key prefix, TTL and command timeout.
 * @returns The store, to pass as `createEvotorWebhooks({ idempotency })`.
 * @throws TypeError naming the option when an option is invalid.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createEvotorWebhooks } from 'evotor-partner'
 * import { createRedisIdempotencyStore } from 'evotor-partner/redis'
 *
 * const client = new Redis(process.env.REDIS_URL!)
 * const webhooks = createEvotorWebhooks({
 *   appCredential, userTokens, handlers,
 *   idempotency: createRedisIdempotencyStore({ client }),
 * })
 * ```
 */
export function createRedisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  const redis = redisContext(FACTORY, options)
  const completedTtlMs = positiveInteger(FACTORY, 'completedTtlMs', options.completedTtlMs, 7 * DAY)
  // Who holds a claim: unique per store instance, so that release() never drops another's claim.
  const holder = `lease:${randomUUID()}`
  const keyOf = (key: string): string => {
    if (typeof key !== 'string' || key === '')
      throw new TypeError('IdempotencyStore: key must be a non-empty string')
    return `${redis.prefix}idem:${key}`
  }
  const { client } = redis
  // `SET … NX GET` (Redis 7.0+) until the server says it does not know it.
  let setGet = true

  return {
    async claim(key: string, leaseMs: number): Promise<ClaimResult> {
      const k = keyOf(key)
      if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs <= 0) {
        throw new TypeError('IdempotencyStore.claim: leaseMs must be a positive number')
      }
      const lease = Math.ceil(leaseMs)
      if (setGet) {
        try {
          // One round trip whatever the answer: nil = set (ours now), else the value that refused it.
          const previous = await redis.run('claim', () => client.set(k, holder, 'PX', lease, 'NX', 'GET'))
          return previous === null ? 'claimed' : previous === DONE ? 'done' : 'in-progress'
        } catch (error) {
          if (!(error instanceof StoreUnavailableError) || !isSyntaxError(error.cause)) throw error
          // Redis before 7.0 refuses NX with GET: two steps from now on.
          setGet = false
        }
      }
      const set = await redis.run('claim', () => client.set(k, holder, 'PX', lease, 'NX'))
      if (set === 'OK') return 'claimed'
      // Refused: done, or held by someone (or just released: the cloud re-sends it, so waiting is safe).
      const value = await redis.run('claim', () => client.get(k))
      return value === DONE ? 'done' : 'in-progress'
    },
    async complete(key: string): Promise<void> {
      const k = keyOf(key)
      await redis.run('complete', () => client.set(k, DONE, 'PX', completedTtlMs))
    },
    async release(key: string): Promise<void> {
      const k = keyOf(key)
      await redis.script('release', RELEASE, [k], [holder])
    },
  }
}

/** The reply of a server that does not accept a command's arguments (here: `NX` with `GET` before Redis 7.0). */
function isSyntaxError(error: unknown): boolean {
  return error instanceof Error && /^ERR syntax error/i.test(error.message)
}
