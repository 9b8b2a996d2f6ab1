import type { Redis } from 'ioredis'
import { positiveInteger } from '../core/auth/user-token-verifier.js'
import { toLogSink } from '../core/logger.js'
import type { SequenceStore } from '../core/subscription-sequencer.js'
import type { WebhookLogger } from '../core/webhooks.js'
import { type RedisStoreOptions, redisContext, redisScript } from './redis-command.js'
import { duplicate, type Subscription, subscribe, subscriberOptions } from './redis-subscriber.js'

const FACTORY = 'createRedisSequenceStore'
const DAY = 24 * 60 * 60_000

/**
 * Raises the stored number, never lowers it, in one atomic step; refreshes the TTL either way.
 * A raise is published (the subscription id on ARGV[3]'s channel) so that waiting instances wake.
 */
const RAISE = redisScript(`local current = tonumber(redis.call('GET', KEYS[1]))
local proposed = tonumber(ARGV[1])
if current == nil or current < proposed then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
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
  /**
   * The connection that hears other instances' advances (a connection in subscriber mode can run
   * nothing else). Default: `client.duplicate()`, made when a sequencer first has an event wait
   * for its predecessor, and closed by `close()`. One you pass is never closed by the store.
   */
  subscriber?: Redis
  /** Where subscriber connection errors go (default: nowhere; they never crash the process). */
  logger?: Pick<WebhookLogger, 'warn'>
}

/**
 * The {@link SequenceStore} of {@link createRedisSequenceStore}, which also wakes the sequencers of
 * every instance when one of them advances a subscription.
 *
 * @example
 * ```ts
 * const store: RedisSequenceStore = createRedisSequenceStore({ client })
 * // on shutdown
 * await store.close()
 * ```
 */
export interface RedisSequenceStore extends SequenceStore {
  getLastHandled(subscriptionId: string): Promise<number | undefined>
  setLastHandled(subscriptionId: string, sequenceNumber: number): Promise<void>
  /**
   * Calls `listener(subscriptionId)` whenever any instance raises a subscription's number, and
   * `listener(undefined)` once the subscription to those announcements is live (again), since
   * some may have been missed meanwhile. The first call opens the subscriber connection. Returns
   * a function that stops calling `listener`.
   */
  onAdvance(listener: (subscriptionId: string | undefined) => void): () => void
  /**
   * Resolves once the announcements are first heard, which starts with the first `onAdvance()`
   * (a sequencer calls it when one of its events first waits); for tests.
   */
  ready(): Promise<void>
  /** Stops every listener and closes the subscriber connection the store opened. */
  close(): Promise<void>
}

/**
 * Creates a {@link SequenceStore} on Redis: the highest `sequenceNumber` handled per subscription
 * (protocol §6.5), shared by every instance. `setLastHandled` is one Lua script, so two instances
 * recording n and n + 1 at the same moment always leave n + 1: the number never goes down.
 *
 * Every raise is published on `<prefix>seq-advanced`; the sequencer of each instance listens
 * there ({@link SequenceStore.onAdvance}) as soon as one of its events waits for a predecessor, so
 * an event waiting at instance B runs within milliseconds of its predecessor being handled at
 * instance A, not at the end of its hold. A missed announcement (subscriber reconnecting) only
 * makes the wait last until the hold ends, as without it.
 *
 * Pair it with {@link createRedisIdempotencyStore}: the sequencer's lock is per process, and the
 * shared claim is what keeps two instances from handling one event at once.
 *
 * @param options - The ioredis client, key prefix, TTL, command timeout, optional subscriber connection.
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
export function createRedisSequenceStore(options: RedisSequenceStoreOptions): RedisSequenceStore {
  const redis = redisContext(FACTORY, options)
  const ttlMs = positiveInteger(FACTORY, 'ttlMs', options.ttlMs, 400 * DAY)
  const { logger, subscriber: given } = subscriberOptions(FACTORY, options)
  const channel = `${redis.prefix}seq-advanced`
  const listeners = new Set<(subscriptionId: string | undefined) => void>()
  let subscription: Subscription | undefined
  let heardFirst!: () => void
  const firstLive = new Promise<void>((resolve) => {
    heardFirst = resolve
  })
  const notify = (subscriptionId: string | undefined): void => {
    for (const listener of [...listeners]) {
      try {
        listener(subscriptionId)
      } catch {
        // A listener's failure is its own; the others still hear the advance.
      }
    }
  }
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
      await redis.script(
        'setLastHandled',
        RAISE,
        [k],
        [String(sequenceNumber), String(ttlMs), channel, subscriptionId],
      )
    },
    onAdvance(listener) {
      if (typeof listener !== 'function') {
        throw new TypeError('SequenceStore.onAdvance: listener must be a function')
      }
      listeners.add(listener)
      if (subscription === undefined) {
        const current = subscribe(
          given ?? duplicate(redis.client),
          given === undefined,
          channel,
          { onMessage: notify, onResubscribed: () => notify(undefined) },
          toLogSink(logger),
          'sequence',
        )
        subscription = current
        // Advances made before the subscription was live were not heard: every waiter checks again.
        void current.live.then(() => {
          heardFirst()
          if (subscription === current) notify(undefined)
        })
      }
      return () => {
        listeners.delete(listener)
      }
    },
    ready() {
      return firstLive
    },
    async close() {
      listeners.clear()
      const current = subscription
      subscription = undefined
      if (current === undefined) return
      current.stop()
      if (current.owned) current.connection.disconnect()
      else await current.connection.unsubscribe(channel).catch(() => undefined)
    },
  }
}
