import { describe, expect, it } from 'vitest'
import { createRedisSequenceStore } from '../../src/stores/redis.js'
import { buildSubscriptionEvent, randomUserId, randomUuid } from '../../src/testing/builders.js'
import { APP_TOKEN, closeInstances, createInstance, request } from './helpers/instances.js'
import { connect, uniquePrefix, useSharedRedis } from './helpers/redis-server.js'

const redis = useSharedRedis({ beforeClose: closeInstances })

const EVENT_PATH = '/api/v1/subscription/event'
const app = `Bearer ${APP_TOKEN}`

describe('createRedisSequenceStore', () => {
  it('remembers the last handled number per subscription, shared between instances', async () => {
    const prefix = uniquePrefix()
    const a = createRedisSequenceStore({ client: connect(redis.url), prefix })
    const b = createRedisSequenceStore({ client: connect(redis.url), prefix })
    expect(await a.getLastHandled('sub-1')).toBeUndefined()
    await a.setLastHandled('sub-1', 3)
    expect(await b.getLastHandled('sub-1')).toBe(3)
    expect(await b.getLastHandled('sub-2')).toBeUndefined()
    await b.setLastHandled('sub-1', 2) // never lowers
    expect(await a.getLastHandled('sub-1')).toBe(3)
    await b.setLastHandled('sub-1', Number.MAX_SAFE_INTEGER)
    expect(await a.getLastHandled('sub-1')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('two instances recording n and n + 1 at the same moment always leave n + 1', async () => {
    const prefix = uniquePrefix()
    const a = createRedisSequenceStore({ client: connect(redis.url), prefix })
    const b = createRedisSequenceStore({ client: connect(redis.url), prefix })
    for (let n = 1; n <= 200; n += 2) {
      // Alternate which instance writes the higher number first.
      const writes =
        n % 4 === 1
          ? [a.setLastHandled('s', n + 1), b.setLastHandled('s', n)]
          : [b.setLastHandled('s', n), a.setLastHandled('s', n + 1)]
      await Promise.all(writes)
      expect(await a.getLastHandled('s')).toBe(n + 1)
    }
  })

  it('keeps a subscription for ttlMs after its last event', async () => {
    const prefix = uniquePrefix()
    const store = createRedisSequenceStore({ client: connect(redis.url), prefix, ttlMs: 60_000 })
    await store.setLastHandled('sub-ttl', 5)
    await redis.admin.pexpire(`${prefix}seq:sub-ttl`, 10)
    await store.setLastHandled('sub-ttl', 4) // lower: ignored, but the TTL is refreshed
    const ttl = await redis.admin.pttl(`${prefix}seq:sub-ttl`)
    expect(ttl).toBeGreaterThan(50_000)
    expect(await store.getLastHandled('sub-ttl')).toBe(5)
  })

  it('rejects bad options and arguments with a TypeError naming them', async () => {
    const client = connect(redis.url, { lazyConnect: true })
    expect(() => createRedisSequenceStore({ client, ttlMs: 0 })).toThrow(/`ttlMs`/)
    expect(() => createRedisSequenceStore({ client, prefix: null as never })).toThrow(/`prefix`/)
    const store = createRedisSequenceStore({ client: connect(redis.url), prefix: uniquePrefix() })
    await expect(store.setLastHandled('s', 0)).rejects.toThrow(/sequenceNumber/)
    await expect(store.setLastHandled('s', 1.5)).rejects.toThrow(/sequenceNumber/)
    await expect(store.getLastHandled('')).rejects.toThrow(/subscriptionId/)
  })
})

describe('subscription events across two instances sharing the Redis stores', () => {
  it('n and n + 1 arriving at two instances at the same moment are handled in order', async () => {
    const prefix = uniquePrefix()
    const log: string[] = []
    const a = createInstance({ url: redis.url, prefix, log, handlerMs: 100, holdMs: 3_000 })
    const b = createInstance({ url: redis.url, prefix, log, handlerMs: 100, holdMs: 3_000 })
    const userId = randomUserId()
    const subscriptionId = randomUuid()
    const event = (
      type: 'SubscriptionCreated' | 'SubscriptionActivated' | 'SubscriptionRenewed',
      n: number,
    ) => request(EVENT_PATH, buildSubscriptionEvent(type, { subscriptionId, sequenceNumber: n, userId }), app)

    expect((await a.webhooks.handle(event('SubscriptionCreated', 1))).status).toBe(200)
    // 3 reaches instance B first, 2 reaches instance A at the same moment.
    const [three, two] = await Promise.all([
      b.webhooks.handle(event('SubscriptionRenewed', 3)),
      a.webhooks.handle(event('SubscriptionActivated', 2)),
    ])
    expect(two.status).toBe(200)
    expect(three.status).toBe(200)
    expect(log).toEqual([1, 2, 3].map((n) => `subscription:${subscriptionId}:${n}`))
  })

  it('the same event at both instances at once is handled once', async () => {
    const prefix = uniquePrefix()
    const log: string[] = []
    const a = createInstance({ url: redis.url, prefix, log, handlerMs: 100 })
    const b = createInstance({ url: redis.url, prefix, log, handlerMs: 100 })
    const body = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId: randomUuid(),
      sequenceNumber: 1,
      userId: randomUserId(),
    })
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? a : b).webhooks.handle(request(EVENT_PATH, body, app)),
      ),
    )
    expect(log).toHaveLength(1)
    // Each duplicate is acknowledged (200) or left for the cloud to re-send (503 + Retry-After).
    for (const answer of answers) {
      expect([200, 503]).toContain(answer.status)
      if (answer.status === 503) expect(answer.headers['retry-after']).toBe('60')
    }
    const again = await b.webhooks.handle(request(EVENT_PATH, body, app))
    expect(again.status).toBe(200)
    expect(log).toHaveLength(1)
  })

  it('n + 1 waits at one instance while n is missing, and is deferred (503) if n never comes', async () => {
    const prefix = uniquePrefix()
    const log: string[] = []
    const a = createInstance({ url: redis.url, prefix, log, holdMs: 200 })
    const b = createInstance({ url: redis.url, prefix, log, holdMs: 200 })
    const userId = randomUserId()
    const subscriptionId = randomUuid()
    const first = buildSubscriptionEvent('SubscriptionCreated', { subscriptionId, sequenceNumber: 1, userId })
    const third = buildSubscriptionEvent('SubscriptionRenewed', { subscriptionId, sequenceNumber: 3, userId })
    const second = buildSubscriptionEvent('SubscriptionActivated', {
      subscriptionId,
      sequenceNumber: 2,
      userId,
    })
    expect((await a.webhooks.handle(request(EVENT_PATH, first, app))).status).toBe(200)
    const deferred = await b.webhooks.handle(request(EVENT_PATH, third, app))
    expect(deferred.status).toBe(503)
    expect(log).toEqual([`subscription:${subscriptionId}:1`])
    expect((await a.webhooks.handle(request(EVENT_PATH, second, app))).status).toBe(200)
    // The cloud re-sends 3, to whichever instance: now it is next.
    expect((await b.webhooks.handle(request(EVENT_PATH, third, app))).status).toBe(200)
    expect(log).toEqual([1, 2, 3].map((n) => `subscription:${subscriptionId}:${n}`))
  })
})
