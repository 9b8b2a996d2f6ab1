import type { Redis } from 'ioredis'
import { optionalFunction, positiveInteger } from '../core/auth/user-token-verifier.js'
import { toLogSink } from '../core/logger.js'
import type { RevocableVerifier, RevocationStore } from '../core/revocations.js'
import type { WebhookLogger } from '../core/webhooks.js'
import { type RedisStoreOptions, redisContext, redisScript } from './redis-command.js'
import { duplicate, type Subscription, subscribe, subscriberOptions } from './redis-subscriber.js'

const FACTORY = 'createRedisRevocations'

/** Raises the user's revoked-before mark (never lowers it) and tells every instance, in one step. */
const REVOKE = redisScript(`local current = tonumber(redis.call('GET', KEYS[1]))
local at = tonumber(ARGV[1])
if current == nil or current < at then
  if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[1]) else redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
end
redis.call('PUBLISH', ARGV[2], ARGV[4])
return 1`)

/**
 * Options of {@link createRedisRevocations}.
 *
 * @example
 * ```ts
 * import type { RedisRevocationsOptions } from 'evotor-partner/redis'
 * const options: RedisRevocationsOptions = { client, logger: console }
 * ```
 */
export interface RedisRevocationsOptions extends RedisStoreOptions {
  /**
   * The connection that listens to revocations (a connection in subscriber mode can run nothing
   * else). Default: `client.duplicate()`, made on the first `attach()` and closed by `close()`.
   * One you pass is never closed by the store.
   */
  subscriber?: Redis
  /**
   * How long a revoked-before mark is kept, in ms. Default: for ever. Set it to at least the
   * lifetime of your tokens (`createUserTokens({ expiresIn })`): an older token is expired anyway.
   */
  markTtlMs?: number
  /** Where subscriber connection errors go (default: nowhere; they never crash the process). */
  logger?: Pick<WebhookLogger, 'warn'>
  /** Clock in ms since the epoch, the one the tokens' `issuedAt` uses. Default `Date.now`. */
  now?: () => number
}

/**
 * Token revocation shared by every instance. See {@link createRedisRevocations}.
 *
 * @example
 * ```ts
 * const revocations: RedisRevocations = createRedisRevocations({ client })
 * await revocations.revokeUser('01-000000000015463')
 * ```
 */
export interface RedisRevocations extends RevocationStore {
  /**
   * Whether the token was issued at or before the user's revoked-before mark (the same
   * millisecond counts as before): the check `createUserTokens({ revocations })` makes by itself,
   * for code of your own that has a token's `userId` and `issuedAt`. Rejects with
   * {@link StoreUnavailableError} when Redis is down, so the request answers 503, never 200.
   */
  isRevoked(token: { userId: string; issuedAt: Date }): Promise<boolean>
  /**
   * Refuses every token of `userId` issued up to now (or up to `before`), on every
   * instance: drops the attached verifiers' cached verifications here at once, stores the mark
   * (it survives restarts and a missed message) and publishes it, so that other instances drop
   * theirs within milliseconds. Rejects with {@link StoreUnavailableError} when Redis is down
   * (answer non-200, so the cloud re-sends the uninstall and this runs again).
   */
  revokeUser(userId: string, before?: Date): Promise<void>
  /** The user's revoked-before mark, or `undefined` when none was set (rejects with {@link StoreUnavailableError} when Redis is down). */
  revokedBefore(userId: string): Promise<Date | undefined>
  /**
   * Drops `verifier`'s cached verifications whenever any instance revokes a user. The first call
   * opens the subscriber connection. Returns a function that detaches it again.
   */
  attach(verifier: RevocableVerifier): () => void
  /** Resolves once the subscription is live (after the first `attach()`); for start-up checks and tests. */
  ready(): Promise<void>
  /** Detaches every verifier and closes the subscriber connection the store opened. */
  close(): Promise<void>
}

/**
 * Creates {@link RedisRevocations}: "refuse this user's tokens issued before now" on every
 * instance within about a second. Two parts, because each alone is not enough:
 *
 * - a persistent **revoked-before mark** per user (`<prefix>revoked:<userId>`), read by the
 *   user tokens on every verification that is not cached: it survives restarts and missed
 *   messages;
 * - a **pub/sub message** (`<prefix>revocations`) that makes every instance drop its cached
 *   verifications of that user at once, instead of serving them for the cache TTL. When the
 *   subscriber connection drops and comes back, the attached caches are cleared, since messages
 *   may have been missed meanwhile.
 *
 * The mark is compared with the token's `issuedAt`, which the issuing instance stamped with its
 * own clock: keep the instances' clocks in sync (NTP). Nothing connects until the first call.
 *
 * @param options - The ioredis client, key prefix, command timeout, optional subscriber connection.
 * @returns A {@link RevocationStore}: pass it as `createUserTokens({ revocations })`.
 * @throws TypeError naming the option when an option is invalid.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * import { createUserTokens } from 'evotor-partner'
 * import { createRedisRevocations } from 'evotor-partner/redis'
 *
 * const revocations = createRedisRevocations({ client: new Redis(process.env.REDIS_URL!) })
 * // Reads the marks, attaches itself; the webhook dispatcher revokes on ApplicationUninstalled.
 * const tokens = createUserTokens({ secret: process.env.TOKEN_SECRET!, revocations })
 * ```
 */
export function createRedisRevocations(options: RedisRevocationsOptions): RedisRevocations {
  const redis = redisContext(FACTORY, options)
  const markTtlMs =
    options.markTtlMs === undefined ? 0 : positiveInteger(FACTORY, 'markTtlMs', options.markTtlMs, 0)
  const now = optionalFunction<() => number>(FACTORY, 'now', options.now) ?? Date.now
  const { logger, subscriber: given } = subscriberOptions(FACTORY, options)
  const channel = `${redis.prefix}revocations`
  const markKey = (userId: string): string => {
    if (typeof userId !== 'string' || userId === '') {
      throw new TypeError('RedisRevocations: userId must be a non-empty string')
    }
    return `${redis.prefix}revoked:${userId}`
  }
  const verifiers = new Set<RevocableVerifier>()
  let subscription: Subscription | undefined

  const dropUser = (userId: string): void => {
    for (const verifier of verifiers) verifier.revokeUser(userId)
  }
  const dropAll = (): void => {
    for (const verifier of verifiers) {
      if (typeof verifier.clear === 'function') verifier.clear()
    }
  }

  const revokedBefore = async (userId: string): Promise<Date | undefined> => {
    const key = markKey(userId)
    const value = await redis.run('revokedBefore', () => redis.client.get(key))
    if (value === null) return undefined
    const ms = Number(value)
    // An unreadable mark revokes everything: fail closed.
    return new Date(Number.isFinite(ms) ? ms : Number.MAX_SAFE_INTEGER)
  }

  return {
    async isRevoked({ userId, issuedAt }) {
      const mark = await revokedBefore(userId)
      return mark !== undefined && issuedAt.getTime() <= mark.getTime()
    },
    async revokeUser(userId, before = new Date(now())) {
      const key = markKey(userId)
      if (!(before instanceof Date) || !Number.isFinite(before.getTime())) {
        throw new TypeError('RedisRevocations.revokeUser: before must be a valid Date')
      }
      dropUser(userId)
      const args = [String(before.getTime()), channel, String(markTtlMs), userId]
      await redis.script('revokeUser', REVOKE, [key], args)
    },
    revokedBefore,
    attach(verifier) {
      if (typeof verifier !== 'object' || verifier === null || typeof verifier.revokeUser !== 'function') {
        throw new TypeError('RedisRevocations.attach: verifier must have a revokeUser() method')
      }
      verifiers.add(verifier)
      subscription ??= subscribe(
        given ?? duplicate(redis.client),
        given === undefined,
        channel,
        { onMessage: dropUser, onResubscribed: dropAll },
        toLogSink(logger),
        'revocation',
      )
      return () => {
        verifiers.delete(verifier)
      }
    },
    ready() {
      if (subscription === undefined) {
        return Promise.reject(new Error('RedisRevocations.ready: call attach() first'))
      }
      return subscription.live
    },
    async close() {
      verifiers.clear()
      const current = subscription
      subscription = undefined
      if (current === undefined) return
      current.stop()
      if (current.owned) current.connection.disconnect()
      else await current.connection.unsubscribe(channel).catch(() => undefined)
    },
  }
}
