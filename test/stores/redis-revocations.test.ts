import { describe, expect, it } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import {
  createRedisRevocations,
  type RedisRevocations,
  type RevocationStore,
} from '../../src/stores/redis.js'
import { randomUserId } from '../../src/testing/builders.js'
import { closeInstances, createInstance, TOKEN_SECRET } from './helpers/instances.js'
import { connect, ready, uniquePrefix, useSharedRedis } from './helpers/redis-server.js'

const redis = useSharedRedis({ beforeClose: closeInstances })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `verify` until it rejects; resolves with how long that took (or throws after `limitMs`). */
async function refusedWithin(verify: () => Promise<unknown>, limitMs: number): Promise<number> {
  const started = performance.now()
  for (;;) {
    const outcome = await verify().then(
      () => 'accepted',
      (error: { code?: number }) => error.code,
    )
    if (outcome === 1002) return performance.now() - started
    if (outcome !== 'accepted') throw new Error(`unexpected verification outcome ${String(outcome)}`)
    if (performance.now() - started > limitMs) throw new Error(`still accepted after ${limitMs} ms`)
    await sleep(10)
  }
}

describe('createRedisRevocations', () => {
  it('revokeUser on one instance: a second instance refuses the user within 1 s', async () => {
    const prefix = uniquePrefix()
    const a = createInstance({ url: redis.url, prefix, log: [] })
    const b = createInstance({ url: redis.url, prefix, log: [] })
    await Promise.all([a.revocations.ready(), b.revocations.ready()])
    const userId = randomUserId()
    const other = randomUserId()
    const token = await a.tokens.issue(userId)
    const otherToken = await a.tokens.issue(other)
    // Both instances have verified (and cached) the tokens: a 60 s cache would keep them valid.
    expect((await b.tokens.verify(token)).userId).toBe(userId)
    expect((await b.tokens.verify(otherToken)).userId).toBe(other)
    expect(b.tokens.peek(token)).toBeDefined()

    await sleep(2) // the revocation is "after" the token in ms
    await a.revocations.revokeUser(userId)
    await expect(a.tokens.verify(token)).rejects.toMatchObject({ code: 1002 })
    const took = await refusedWithin(() => b.tokens.verify(token), 1_000)
    expect(took).toBeLessThan(1_000)
    // Only that user: the other user's cached token still verifies.
    expect((await b.tokens.verify(otherToken)).userId).toBe(other)
    // A token issued after the revocation (re-install) is accepted everywhere.
    await sleep(2)
    const fresh = await b.tokens.issue(userId)
    expect((await a.tokens.verify(fresh)).userId).toBe(userId)
    expect((await b.tokens.verify(fresh)).userId).toBe(userId)
  })

  it('the mark survives a restart: a new instance refuses tokens issued before it', async () => {
    const prefix = uniquePrefix()
    const a = createInstance({ url: redis.url, prefix, log: [] })
    const userId = randomUserId()
    const token = await a.tokens.issue(userId)
    await sleep(2)
    await a.revocations.revokeUser(userId)
    // A process started later never saw the message.
    const revocations = createRedisRevocations({ client: connect(redis.url), prefix })
    const tokens = createUserTokens({ secret: TOKEN_SECRET, isRevoked: revocations.isRevoked })
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 1002 })
    expect(await revocations.revokedBefore(userId)).toBeInstanceOf(Date)
    expect(await revocations.revokedBefore(randomUserId())).toBeUndefined()
  })

  it('a message missed while the subscriber was disconnected: caches are dropped when it comes back', async () => {
    const prefix = uniquePrefix()
    const a = createRedisRevocations({ client: connect(redis.url), prefix })
    const subscriber = connect(redis.url)
    await ready(subscriber)
    const subscriberId = await subscriber.client('ID')
    const b = createRedisRevocations({ client: connect(redis.url), prefix, subscriber })
    const tokensB = createUserTokens({ secret: TOKEN_SECRET, isRevoked: b.isRevoked })
    b.attach(tokensB)
    await b.ready()
    const userId = randomUserId()
    const token = await tokensB.issue(userId)
    await tokensB.verify(token)
    expect(tokensB.peek(token)).toBeDefined()
    // B's subscriber loses its connection; A revokes meanwhile (B misses the message).
    const closed = new Promise((resolve) => subscriber.once('close', resolve))
    await redis.admin.client('KILL', 'ID', String(subscriberId))
    await closed
    await sleep(2)
    await a.revokeUser(userId)
    await ready(subscriber)
    const took = await refusedWithin(() => tokensB.verify(token), 1_000)
    expect(took).toBeLessThan(1_000)
    await b.close()
    await a.close()
  })

  it('the same millisecond counts as before; later tokens pass', async () => {
    let now = 1_800_000_000_000
    const prefix = uniquePrefix()
    const revocations = createRedisRevocations({ client: connect(redis.url), prefix, now: () => now })
    const tokens = createUserTokens({
      secret: TOKEN_SECRET,
      isRevoked: revocations.isRevoked,
      now: () => now,
    })
    revocations.attach(tokens)
    const userId = randomUserId()
    const sameMs = await tokens.issue(userId)
    await revocations.revokeUser(userId)
    await expect(tokens.verify(sameMs)).rejects.toMatchObject({ code: 1002 })
    now += 1
    const later = await tokens.issue(userId)
    expect((await tokens.verify(later)).userId).toBe(userId)
    // An earlier `before` never lowers the mark.
    await revocations.revokeUser(userId, new Date(now - 1_000))
    expect((await revocations.revokedBefore(userId))?.getTime()).toBe(now - 1)
    await revocations.close()
  })

  it('is a RevocationStore: createUserTokens({ revocations }) reads its marks and attaches itself', async () => {
    const prefix = uniquePrefix()
    const store: RevocationStore = createRedisRevocations({ client: connect(redis.url), prefix })
    const a = createUserTokens({ secret: TOKEN_SECRET, revocations: store })
    const otherStore = createRedisRevocations({ client: connect(redis.url), prefix })
    const b = createUserTokens({ secret: TOKEN_SECRET, revocations: otherStore })
    await Promise.all([(store as RedisRevocations).ready(), otherStore.ready()])
    const userId = randomUserId()
    const token = await a.issue(userId)
    await a.verify(token)
    await b.verify(token) // cached on both instances
    expect(b.peek(token)?.userId).toBe(userId)
    const mark = new Date(Date.now())
    await store.revokeUser(userId, mark) // the interface call the webhook dispatcher makes
    expect(await otherStore.revokedBefore(userId)).toEqual(mark)
    await expect(a.verify(token)).rejects.toMatchObject({ code: 1002 })
    // b's cached verification goes through the pub/sub message that attach() subscribed it to.
    expect(await refusedWithin(() => b.verify(token), 1_000)).toBeLessThan(1_000)
    // A token issued after the mark, even in the same millisecond on a clock behind, verifies on both.
    const fresh = await createUserTokens({
      secret: TOKEN_SECRET,
      revocations: store,
      now: () => mark.getTime(),
    }).issue(userId)
    expect((await b.verify(fresh)).userId).toBe(userId)
    // Raise, never lower: an older mark (a late re-delivery of an old uninstall) changes nothing.
    await otherStore.revokeUser(userId, new Date(mark.getTime() - 60_000))
    expect(await store.revokedBefore(userId)).toEqual(mark)
    await Promise.all([(store as RedisRevocations).close(), otherStore.close()])
  })

  it('markTtlMs bounds how long a mark is kept; by default it is kept for ever', async () => {
    const prefix = uniquePrefix()
    const kept = createRedisRevocations({ client: connect(redis.url), prefix })
    const bounded = createRedisRevocations({
      client: connect(redis.url),
      prefix: `${prefix}b:`,
      markTtlMs: 60_000,
    })
    await kept.revokeUser('01-000000000000042')
    await bounded.revokeUser('01-000000000000042')
    expect(await redis.admin.pttl(`${prefix}revoked:01-000000000000042`)).toBe(-1)
    const ttl = await redis.admin.pttl(`${prefix}b:revoked:01-000000000000042`)
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('opens no connection before attach(), and close() ends the subscriber it opened', async () => {
    const client = connect(redis.url, { lazyConnect: true })
    const revocations = createRedisRevocations({ client, prefix: uniquePrefix() })
    await sleep(20)
    expect(client.status).toBe('wait')
    await expect(revocations.ready()).rejects.toThrow(/attach/)
    const prefix = uniquePrefix()
    const listeners = async () => Number((await redis.admin.pubsub('NUMSUB', `${prefix}revocations`))[1])
    const withSubscriber = createRedisRevocations({ client: connect(redis.url), prefix })
    expect(await listeners()).toBe(0)
    withSubscriber.attach(createUserTokens({ secret: TOKEN_SECRET }))
    await withSubscriber.ready()
    expect(await listeners()).toBe(1)
    await withSubscriber.close()
    await sleep(50)
    expect(await listeners()).toBe(0)
  })

  it('rejects bad options and arguments with a TypeError naming them', async () => {
    const client = connect(redis.url, { lazyConnect: true })
    expect(() => createRedisRevocations({ client, markTtlMs: 0 })).toThrow(/`markTtlMs`/)
    expect(() => createRedisRevocations({ client, now: 5 as never })).toThrow(/`now`/)
    expect(() => createRedisRevocations({ client, logger: {} as never })).toThrow(/`logger`/)
    expect(() => createRedisRevocations({ client, subscriber: {} as never })).toThrow(/`subscriber`/)
    const revocations = createRedisRevocations({ client: connect(redis.url), prefix: uniquePrefix() })
    await expect(revocations.revokeUser('')).rejects.toThrow(/userId/)
    await expect(revocations.revokeUser('u', new Date(Number.NaN))).rejects.toThrow(/before/)
    expect(() => revocations.attach({} as never)).toThrow(/revokeUser/)
  })
})
