import { positiveInteger } from '../core/auth/user-token-verifier.js'
import type { SequenceStore } from '../core/subscription-sequencer.js'
import { type RedisStoreOptions, redisContext, redisScript } from './redis-command.js'

const FACTORY = 'createRedisSequenceStore'
const DAY = 24 * 60 * 60_000

/** Raises the stored number, never lowers it, in one atomic step; refreshes the TTL either way. */
const RAISE = redisScript(`local current = tonumber(redis.call('GET', KEYS[1]))
local proposed = tonumber(ARGV[1])
if current == nil or current < proposed then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tostring(current)`)

/**
 * Options of {@link createRedisSequenceStore}.
 *
 * @example
 * ```ts
 * import type { RedisSequenceStoreOptions } from 'evotor-partner/redis'
 * const options: RedisSequenceStoreOptions = { client, ttlMs: 800 * 24 * 60 * 60_000 }
 * ```
 */
export interface RedisSequenceStoreOptions extends RedisStoreOptions {
  /**
   * How long a subscription's last handled number is kept after its last event, in ms. Default
   * 400 days (longer than a yearly renewal). A forgotten number only makes the next event wait
   * for the sequencer's gap timeout once.
   */
  ttlMs?: number
}

/**
 * Creates a {@link SequenceStore} on Redis: the highest `sequenceNumber` handled per subscription
 * (protocol §6.5), shared by every instance. `setLastHandled` is one Lua script, so two instances
 * recording n and n + 1 at the same moment always leave n + 1: the number never goes down.
 *
 * Pair it with {@link createRedisIdempotencyStore}: the sequencer's lock is per process, and the
 * shared claim is what keeps two instances from handling one event at once.
 *
 * @param options - The ioredis client, key prefix, TTL and command timeout.
 * @returns The store, to pass as `createEvotorWebhooks({ ordering: { store } })`.
 * @throws TypeError naming the option when an option is invalid. Its methods reject with
 *   {@link StoreUnavailableError} (503 with `Retry-After`) when Redis is down.
 *
 * @example
 * ```ts
 * import { createRedisIdempotencyStore, createRedisSequenceStore } from 'evotor-partner/redis'
 * const webhooks = createEvotorWebhooks({
 *   appCredential, userTokens, handlers,
 *   idempotency: createRedisIdempotencyStore({ client }),
 *   ordering: { store: createRedisSequenceStore({ client }) },
 * })
 * ```
 */
export function createRedisSequenceStore(options: RedisSequenceStoreOptions): SequenceStore {
  const redis = redisContext(FACTORY, options)
  const ttlMs = positiveInteger(FACTORY, 'ttlMs', options.ttlMs, 400 * DAY)
  const keyOf = (subscriptionId: string): string => {
    if (typeof subscriptionId !== 'string' || subscriptionId === '') {
      throw new TypeError('SequenceStore: subscriptionId must be a non-empty string')
    }
    return `${redis.prefix}seq:${subscriptionId}`
  }
  const { client } = redis

  return {
    async getLastHandled(subscriptionId: string): Promise<number | undefined> {
      const k = keyOf(subscriptionId)
      const value = await redis.run('getLastHandled', () => client.get(k))
      if (value === null) return undefined
      const n = Number(value)
      return Number.isSafeInteger(n) && n > 0 ? n : undefined
    },
    async setLastHandled(subscriptionId: string, sequenceNumber: number): Promise<void> {
      const k = keyOf(subscriptionId)
      if (typeof sequenceNumber !== 'number' || !Number.isSafeInteger(sequenceNumber) || sequenceNumber < 1) {
        throw new TypeError('SequenceStore.setLastHandled: sequenceNumber must be a positive integer')
      }
      await redis.script('setLastHandled', RAISE, [k], [String(sequenceNumber), String(ttlMs)])
    },
  }
}
