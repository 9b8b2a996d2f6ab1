import { describe, expect, it } from 'vitest'
import { runIdempotent } from '../../src/core/idempotency.js'
import { createRedisIdempotencyStore } from '../../src/stores/redis.js'
import { connect, uniquePrefix, useSharedRedis } from './helpers/redis-server.js'

const redis = useSharedRedis()

/** Two "instances": two connections, two stores, one Redis. */
function twoInstances(options: { completedTtlMs?: number } = {}) {
  const prefix = uniquePrefix()
  const a = createRedisIdempotencyStore({ client: connect(redis.url), prefix, ...options })
  const b = createRedisIdempotencyStore({ client: connect(redis.url), prefix, ...options })
  return { prefix, a, b }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('createRedisIdempotencyStore', () => {
  it('claim -> in-progress elsewhere -> complete -> done everywhere', async () => {
    const { a, b } = twoInstances()
    expect(await a.claim('receipt:1', 60_000)).toBe('claimed')
    expect(await b.claim('receipt:1', 60_000)).toBe('in-progress')
    expect(await a.claim('receipt:1', 60_000)).toBe('in-progress')
    await a.complete('receipt:1')
    expect(await b.claim('receipt:1', 60_000)).toBe('done')
    expect(await a.claim('receipt:1', 60_000)).toBe('done')
  })

  it('two instances racing on one claim: exactly one wins', async () => {
    const { a, b } = twoInstances()
    for (let round = 0; round < 20; round++) {
      const key = `installation:race-${round}`
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claim(key, 60_000)),
      )
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1)
      expect(results.filter((r) => r === 'in-progress')).toHaveLength(19)
    }
  })

  it('50 concurrent duplicate deliveries over two instances run the handler once', async () => {
    const { a, b } = twoInstances()
    let calls = 0
    const fn = async () => {
      calls++
      await sleep(50)
      return 'applied'
    }
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => runIdempotent(i % 2 === 0 ? a : b, 'receipt:dup', fn)),
    )
    expect(calls).toBe(1)
    expect(outcomes.filter((o) => o.outcome === 'ran')).toHaveLength(1)
    // The others found it running (answer 503, the cloud re-sends) or already done (answer 200).
    for (const o of outcomes) expect(['ran', 'in-progress', 'done']).toContain(o.outcome)
    expect(outcomes.filter((o) => o.outcome === 'in-progress').length).toBeGreaterThan(0)
    // Re-delivered afterwards: done on both instances, nothing runs again.
    expect((await runIdempotent(b, 'receipt:dup', fn)).outcome).toBe('done')
    expect((await runIdempotent(a, 'receipt:dup', fn)).outcome).toBe('done')
    expect(calls).toBe(1)
  })

  it('a holder that crashed frees its claim when the lease expires', async () => {
    const prefix = uniquePrefix()
    const crashing = connect(redis.url)
    const a = createRedisIdempotencyStore({ client: crashing, prefix })
    const b = createRedisIdempotencyStore({ client: connect(redis.url), prefix })
    expect(await a.claim('installation:crash', 300)).toBe('claimed')
    // The process dies mid-handler: no complete(), no release(), the connection just goes.
    crashing.disconnect()
    expect(await b.claim('installation:crash', 60_000)).toBe('in-progress')
    await sleep(400)
    expect(await b.claim('installation:crash', 60_000)).toBe('claimed')
    await b.complete('installation:crash')
    expect(await b.claim('installation:crash', 60_000)).toBe('done')
  })

  it('release drops only its own claim, never one taken after its lease expired', async () => {
    const { a, b } = twoInstances()
    expect(await a.claim('receipt:slow', 100)).toBe('claimed')
    await sleep(150)
    expect(await b.claim('receipt:slow', 60_000)).toBe('claimed')
    await a.release('receipt:slow') // a's handler failed late: b's claim must stand
    expect(await a.claim('receipt:slow', 60_000)).toBe('in-progress')
    await b.release('receipt:slow')
    expect(await a.claim('receipt:slow', 60_000)).toBe('claimed')
  })

  it('a failed handler releases the claim so that the retry runs it (on any instance)', async () => {
    const { a, b } = twoInstances()
    await expect(
      runIdempotent(a, 'receipt:fails', async () => {
        throw new Error('database down')
      }),
    ).rejects.toThrow('database down')
    expect(await runIdempotent(b, 'receipt:fails', async () => 'ok')).toEqual({ outcome: 'ran', value: 'ok' })
  })

  it('keeps completions for completedTtlMs and leases for leaseMs (in Redis TTLs)', async () => {
    const { prefix, a } = twoInstances({ completedTtlMs: 5 * 60_000 })
    await a.claim('receipt:ttl', 30_000)
    const lease = await redis.admin.pttl(`${prefix}idem:receipt:ttl`)
    expect(lease).toBeGreaterThan(25_000)
    expect(lease).toBeLessThanOrEqual(30_000)
    await a.complete('receipt:ttl')
    const kept = await redis.admin.pttl(`${prefix}idem:receipt:ttl`)
    expect(kept).toBeGreaterThan(4 * 60_000)
    expect(kept).toBeLessThanOrEqual(5 * 60_000)
  })

  it('completions expire after completedTtlMs', async () => {
    const { a, b } = twoInstances({ completedTtlMs: 200 })
    await a.claim('receipt:short', 60_000)
    await a.complete('receipt:short')
    expect(await b.claim('receipt:short', 60_000)).toBe('done')
    await sleep(300)
    expect(await b.claim('receipt:short', 60_000)).toBe('claimed')
  })

  it('treats keys as opaque strings: no two keys collide, any characters work', async () => {
    const { prefix, a } = twoInstances()
    const keys = ['subscription:{a}:1', 'subscription:{a}:1 ', 'receipt:ключ', 'a:b:c', 'a:b', '#*?[]\n']
    for (const key of keys) expect(await a.claim(key, 60_000)).toBe('claimed')
    for (const key of keys) expect(await a.claim(key, 60_000)).toBe('in-progress')
    await a.complete(keys[0]!)
    expect(await a.claim(keys[1]!, 60_000)).toBe('in-progress')
    expect(await redis.admin.exists(`${prefix}idem:${keys[2]}`)).toBe(1)
  })

  it('two prefixes are two separate stores', async () => {
    const client = connect(redis.url)
    const one = createRedisIdempotencyStore({ client, prefix: uniquePrefix() })
    const two = createRedisIdempotencyStore({ client, prefix: uniquePrefix() })
    expect(await one.claim('receipt:p', 60_000)).toBe('claimed')
    expect(await two.claim('receipt:p', 60_000)).toBe('claimed')
  })

  it('creates nothing in Redis and opens nothing until the first call', async () => {
    const client = connect(redis.url, { lazyConnect: true })
    createRedisIdempotencyStore({ client, prefix: uniquePrefix() })
    await sleep(50)
    expect(client.status).toBe('wait')
  })

  it('rejects bad options with a TypeError naming the option', () => {
    const client = connect(redis.url, { lazyConnect: true })
    expect(() => createRedisIdempotencyStore(undefined as never)).toThrow(/`options` must be an object/)
    expect(() => createRedisIdempotencyStore({} as never)).toThrow(/`client` must be an ioredis/)
    expect(() => createRedisIdempotencyStore({ client: {} as never })).toThrow(/`client`/)
    expect(() => createRedisIdempotencyStore({ client, prefix: 1 as never })).toThrow(/`prefix`/)
    expect(() => createRedisIdempotencyStore({ client, completedTtlMs: 0 })).toThrow(/`completedTtlMs`/)
    expect(() => createRedisIdempotencyStore({ client, completedTtlMs: 1.5 })).toThrow(/`completedTtlMs`/)
    expect(() => createRedisIdempotencyStore({ client, commandTimeoutMs: -1 })).toThrow(/`commandTimeoutMs`/)
  })

  it('rejects a bad key or lease with a TypeError before touching Redis', async () => {
    const { a } = twoInstances()
    await expect(a.claim('', 1000)).rejects.toThrow(TypeError)
    await expect(a.claim('k', 0)).rejects.toThrow(/leaseMs/)
    await expect(a.claim('k', Number.NaN)).rejects.toThrow(/leaseMs/)
  })
})
