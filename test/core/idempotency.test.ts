import { describe, expect, it } from 'vitest'
import {
  createMemoryIdempotencyStore,
  type IdempotencyStore,
  idempotencyKeyFor,
  runIdempotent,
  setBounded,
} from '../../src/core/idempotency.js'

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
  }
}

/** The memory store behind async methods, like a database-backed store. */
function asyncStore(inner: IdempotencyStore): IdempotencyStore {
  return {
    claim: async (key, leaseMs) => {
      await Promise.resolve()
      return inner.claim(key, leaseMs)
    },
    complete: async (key) => {
      await Promise.resolve()
      await inner.complete(key)
    },
    release: async (key) => {
      await Promise.resolve()
      await inner.release(key)
    },
  }
}

describe('runIdempotent', () => {
  for (const [name, makeStore] of [
    ['memory store', () => createMemoryIdempotencyStore()],
    ['async store', () => asyncStore(createMemoryIdempotencyStore())],
  ] as const) {
    it(`runs fn once for 50 concurrent identical deliveries (${name})`, async () => {
      const store = makeStore()
      const gate = deferred()
      let calls = 0
      const fn = async () => {
        calls++
        await gate.promise
        return 'applied'
      }
      const during = Array.from({ length: 25 }, () => runIdempotent(store, 'installation:abc', fn))
      await new Promise((r) => setTimeout(r, 10))
      gate.resolve()
      const first = await Promise.all(during)
      const after = await Promise.all(
        Array.from({ length: 25 }, () => runIdempotent(store, 'installation:abc', fn)),
      )

      expect(calls).toBe(1)
      expect(first.filter((r) => r.outcome === 'ran')).toEqual([{ outcome: 'ran', value: 'applied' }])
      expect(first.filter((r) => r.outcome === 'in-progress')).toHaveLength(24)
      expect(after.every((r) => r.outcome === 'done')).toBe(true)
    })
  }

  it('runs fn again on the retry after it threw, and rethrows the error', async () => {
    const store = createMemoryIdempotencyStore()
    let calls = 0
    const fn = async () => {
      calls++
      if (calls === 1) throw new Error('database down')
      return calls
    }
    await expect(runIdempotent(store, 'k', fn)).rejects.toThrow('database down')
    await expect(runIdempotent(store, 'k', fn)).resolves.toEqual({ outcome: 'ran', value: 2 })
    await expect(runIdempotent(store, 'k', fn)).resolves.toEqual({ outcome: 'done' })
    expect(calls).toBe(2)
  })

  it('rethrows the handler error even when release fails', async () => {
    const store: IdempotencyStore = {
      claim: () => 'claimed',
      complete: () => {},
      release: () => {
        throw new Error('release failed')
      },
    }
    await expect(
      runIdempotent(store, 'k', async () => {
        throw new Error('handler failed')
      }),
    ).rejects.toThrow('handler failed')
  })

  it('returns done for a completed key without calling fn', async () => {
    const store = createMemoryIdempotencyStore()
    store.claim('receipt:1', 1000)
    store.complete('receipt:1')
    let calls = 0
    const result = await runIdempotent(store, 'receipt:1', async () => {
      calls++
    })
    expect(result).toEqual({ outcome: 'done' })
    expect(calls).toBe(0)
  })

  it('lets a delivery re-claim a key whose lease expired (crashed handler)', async () => {
    const clock = fakeClock()
    const store = createMemoryIdempotencyStore({ now: clock.now })
    const stuck = deferred()
    let calls = 0
    void runIdempotent(
      store,
      'k',
      async () => {
        calls++
        await stuck.promise
      },
      { leaseMs: 1000 },
    )
    expect(await runIdempotent(store, 'k', async () => 'x', { leaseMs: 1000 })).toEqual({
      outcome: 'in-progress',
    })
    clock.advance(999)
    expect(store.claim('k', 1000)).toBe('in-progress')
    clock.advance(1)
    expect(await runIdempotent(store, 'k', async () => 'second', { leaseMs: 1000 })).toEqual({
      outcome: 'ran',
      value: 'second',
    })
    expect(calls).toBe(1)
    stuck.resolve()
  })

  it('rejects bad arguments with a TypeError naming them', async () => {
    const store = createMemoryIdempotencyStore()
    await expect(runIdempotent(store, '', async () => 1)).rejects.toThrow(/key/)
    await expect(runIdempotent(store, 'k', async () => 1, { leaseMs: 0 })).rejects.toThrow(/leaseMs/)
    await expect(runIdempotent({} as IdempotencyStore, 'k', async () => 1)).rejects.toThrow(TypeError)
  })
})

describe('createMemoryIdempotencyStore', () => {
  it('claims, reports in-progress, completes and releases', () => {
    const store = createMemoryIdempotencyStore()
    expect(store.claim('a', 1000)).toBe('claimed')
    expect(store.claim('a', 1000)).toBe('in-progress')
    store.release('a')
    expect(store.claim('a', 1000)).toBe('claimed')
    store.complete('a')
    expect(store.claim('a', 1000)).toBe('done')
    expect(store.size).toBe(1)
  })

  it('stays bounded by max', () => {
    const store = createMemoryIdempotencyStore({ max: 10 })
    for (let i = 0; i < 50; i++) {
      expect(store.claim(`k${i}`, 1000)).toBe('claimed')
      store.complete(`k${i}`)
    }
    expect(store.size).toBe(10)
    expect(store.claim('k49', 1000)).toBe('done')
    expect(store.claim('k0', 1000)).toBe('claimed')
  })

  it('bounds in-progress leases too', () => {
    const store = createMemoryIdempotencyStore({ max: 5 })
    for (let i = 0; i < 20; i++) store.claim(`lease${i}`, 60_000)
    expect(store.size).toBe(5)
  })

  it('drops the oldest lease first when leases are full', () => {
    const store = createMemoryIdempotencyStore({ max: 2 })
    expect(store.claim('a', 60_000)).toBe('claimed')
    expect(store.claim('b', 60_000)).toBe('claimed')
    expect(store.claim('c', 60_000)).toBe('claimed')
    expect(store.claim('b', 60_000)).toBe('in-progress')
    expect(store.claim('c', 60_000)).toBe('in-progress')
    expect(store.claim('a', 60_000)).toBe('claimed') // 'a' was dropped for 'c'
  })

  it('claims and completes one delivery at a time with the default max (100,000)', () => {
    // Speed is measured by `npm run bench` (receipts with new ids), not asserted here.
    const store = createMemoryIdempotencyStore()
    for (let i = 0; i < 3000; i++) {
      expect(store.claim(`receipt:${i}`, 60_000)).toBe('claimed')
      store.complete(`receipt:${i}`)
    }
    expect(store.size).toBe(3000)
    expect(store.claim('receipt:0', 60_000)).toBe('done')
  })

  it('forgets done keys after ttl', () => {
    const clock = fakeClock()
    const store = createMemoryIdempotencyStore({ ttl: 10_000, now: clock.now })
    store.claim('a', 1000)
    store.complete('a')
    clock.advance(9_999)
    expect(store.claim('a', 1000)).toBe('done')
    clock.advance(2)
    expect(store.claim('a', 1000)).toBe('claimed')
  })

  it('remembers done keys for 7 days by default (Evotor retries for 3)', () => {
    const clock = fakeClock()
    const store = createMemoryIdempotencyStore({ now: clock.now })
    store.claim('a', 1000)
    store.complete('a')
    clock.advance(3 * 24 * 60 * 60_000)
    expect(store.claim('a', 1000)).toBe('done')
    clock.advance(4 * 24 * 60 * 60_000 + 1)
    expect(store.claim('a', 1000)).toBe('claimed')
  })

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createMemoryIdempotencyStore({ max: 0 })).toThrow(/max/)
    expect(() => createMemoryIdempotencyStore({ max: 1.5 })).toThrow(/max/)
    expect(() => createMemoryIdempotencyStore({ ttl: -1 })).toThrow(/ttl/)
    expect(() => createMemoryIdempotencyStore({ ttl: Number.NaN })).toThrow(/ttl/)
    expect(() => createMemoryIdempotencyStore({ now: 5 as unknown as () => number })).toThrow(/now/)
    expect(() => createMemoryIdempotencyStore({ max: 0 })).toThrow(TypeError)
  })

  it('does not mutate the options', () => {
    const options = Object.freeze({ max: 3, ttl: 1000 })
    createMemoryIdempotencyStore(options)
    expect(options).toEqual({ max: 3, ttl: 1000 })
  })
})

describe('idempotencyKeyFor', () => {
  const subscriptionEvent = {
    subscriptionId: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0',
    productId: 'c0d01x35-5193-4cc2-9bfb-be20e0679498',
    userId: '01-000000000000001',
    timestamp: '2017-04-20T18:26:37.753+0000',
    sequenceNumber: 4,
    type: 'SubscriptionRenewed',
    nextBillingDate: '2017-04-23T00:48:38.000+0000',
    chargedSum: { amount: 2416.67, currency: 'RUB' },
  }
  const base64urlHash = /^[A-Za-z0-9_-]{43}$/

  const U = { userId: '01-000000000000001' }

  it('keys subscription events by user, subscriptionId and sequenceNumber', () => {
    expect(idempotencyKeyFor('subscriptionEvent', subscriptionEvent, U)).toBe(
      'subscription:01-000000000000001:a99fbf70-6307-4acc-b61c-741ee9eef6c0:4',
    )
    expect(idempotencyKeyFor('subscriptionEvent', { ...subscriptionEvent, sequenceNumber: '4' }, U)).toBe(
      'subscription:01-000000000000001:a99fbf70-6307-4acc-b61c-741ee9eef6c0:4',
    )
    expect(idempotencyKeyFor('subscriptionEvent', { ...subscriptionEvent, sequenceNumber: 5 }, U)).toBe(
      'subscription:01-000000000000001:a99fbf70-6307-4acc-b61c-741ee9eef6c0:5',
    )
    // Without a verified user the key says so (`~` is never an escaped id part).
    expect(idempotencyKeyFor('subscriptionEvent', subscriptionEvent)).toBe(
      'subscription:~:a99fbf70-6307-4acc-b61c-741ee9eef6c0:4',
    )
  })

  it('never gives two users the same key for the same ids (design "Tenancy")', () => {
    const other = { userId: '01-000000000000002' }
    const receipt = { id: 'evt-1', data: { id: 'r-1' } }
    const documents = [{ uuid: 'd1', type: 'SELL' }]
    for (const [route, body] of [
      ['subscriptionEvent', subscriptionEvent],
      ['installationEvent', { id: 'e-1' }],
      ['receipts', receipt],
      ['receipts', [receipt, receipt]],
      ['documents', documents],
    ] as const) {
      const mine = idempotencyKeyFor(route, body, { ...U, storeUuid: 's' })
      expect(mine).toBeDefined()
      expect(idempotencyKeyFor(route, body, { ...other, storeUuid: 's' })).not.toBe(mine)
      expect(idempotencyKeyFor(route, body, { storeUuid: 's' })).not.toBe(mine)
    }
    // A user id that looks like a key part cannot forge another user's prefix.
    expect(idempotencyKeyFor('receipts', receipt, { userId: '01-1:evt' })).not.toBe(
      idempotencyKeyFor('receipts', { ...receipt, id: 'evt:evt-1' }, { userId: '01-1' }),
    )
  })

  it('keys installation events by id (and the draft spelling Id)', () => {
    const event = {
      id: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0',
      timestamp: 1504168645290,
      version: 2,
      type: 'ApplicationInstalled',
      data: { productId: '1eaca77f-1579-5078-a123-83c892348acd', userId: '01-000000000000001' },
    }
    expect(idempotencyKeyFor('installationEvent', event, U)).toBe(
      'installation:01-000000000000001:a99fbf70-6307-4acc-b61c-741ee9eef6c0',
    )
    const { id, ...rest } = event
    expect(idempotencyKeyFor('installationEvent', { ...rest, Id: id }, U)).toBe(
      `installation:01-000000000000001:${id}`,
    )
  })

  it('keys receipts by event id, falling back to a body hash', () => {
    const receipt = { id: 'evt-1', userId: '01-1', data: { id: '20170222-d58c-40e0-8051-b53adff38860' } }
    expect(idempotencyKeyFor('receipts', receipt, { userId: '01-1' })).toBe('receipt:01-1:evt-1')
    expect(idempotencyKeyFor('receipts', [receipt], { userId: '01-1' })).toBe('receipt:01-1:evt-1')
    const two = [receipt, { ...receipt, id: 'evt-2' }]
    const key = idempotencyKeyFor('receipts', two)
    expect(key).toMatch(/^receipt:~:#[A-Za-z0-9_-]{43}$/)
    expect(idempotencyKeyFor('receipts', structuredClone(two))).toBe(key)
    expect(idempotencyKeyFor('receipts', [receipt, { ...receipt, id: 'evt-3' }])).not.toBe(key)
  })

  it('hashes route, storeUuid and canonical JSON for documents', () => {
    const documents = [{ uuid: 'd1', type: 'SELL', body: { sum: 10, items: [1, 2] } }]
    const reordered = [{ body: { items: [1, 2], sum: 10 }, type: 'SELL', uuid: 'd1' }]
    const storeUuid = '20170928-3176-40EB-80E2-A11F032E282A'
    const key = idempotencyKeyFor('documents', documents, { storeUuid })
    expect(key?.startsWith('documents:~:')).toBe(true)
    expect(key?.slice('documents:~:'.length)).toMatch(base64urlHash)
    expect(idempotencyKeyFor('documents', reordered, { storeUuid })).toBe(key)
    expect(idempotencyKeyFor('documents', documents, { storeUuid: storeUuid.toLowerCase() })).toBe(key)
    expect(idempotencyKeyFor('documents', documents, { storeUuid: 'other-store' })).not.toBe(key)
    expect(idempotencyKeyFor('documents', [{ ...documents[0], type: 'PAYBACK' }], { storeUuid })).not.toBe(
      key,
    )
    // Array order is meaningful: only key order is canonicalised.
    expect(
      idempotencyKeyFor('documents', [{ ...documents[0], body: { sum: 10, items: [2, 1] } }], { storeUuid }),
    ).not.toBe(key)
  })

  it('gives no key to full-upsert routes, so a change back to an earlier state is applied (A -> B -> A)', () => {
    for (const route of ['stores', 'devices', 'employees', 'products']) {
      expect(idempotencyKeyFor(route, [{ uuid: 'x', name: 'Магазин' }], { storeUuid: 's' })).toBeUndefined()
    }
  })

  it('keys user/token by userId and a hash of the token, never the token itself', () => {
    const token = 'f46b89a5-8e80-4591-b0aa-94551790444b'
    const key = idempotencyKeyFor('userToken', { userId: '01-000000000000001', token })
    expect(key).toMatch(/^user-token:01-000000000000001:[A-Za-z0-9_-]{43}$/)
    expect(key).not.toContain(token)
    expect(key).not.toContain(token.slice(0, 8))
    expect(idempotencyKeyFor('userToken', { userId: '01-000000000000001', token: `${token}x` })).not.toBe(key)
    expect(idempotencyKeyFor('userToken', { token }, { userId: '01-000000000000001' })).toBe(key)
  })

  it('returns undefined for requests and unknown routes', () => {
    expect(idempotencyKeyFor('userCreate', { userId: '01-1', password: 'secret' })).toBeUndefined()
    expect(idempotencyKeyFor('userVerify', { userId: '01-1', password: 'secret' })).toBeUndefined()
    expect(idempotencyKeyFor('commodities', undefined)).toBeUndefined()
    expect(idempotencyKeyFor('somethingElse', {})).toBeUndefined()
  })

  it('hashes ids that are long or unusual so keys stay short', () => {
    const id = `${'x'.repeat(500)}:\n`
    const key = idempotencyKeyFor('installationEvent', { id })
    expect(key).toMatch(/^installation:~:#[A-Za-z0-9_-]{43}$/)
  })

  it('never contains a secret from the body of any route', () => {
    const secret = 'S3cr3t-T0ken-Value-1234567890'
    for (const route of [
      'subscriptionEvent',
      'installationEvent',
      'receipts',
      'documents',
      'stores',
      'userToken',
    ]) {
      const key = idempotencyKeyFor(route, { token: secret, password: secret }) ?? ''
      expect(key).not.toContain(secret)
    }
  })
})

describe('setBounded', () => {
  it('keeps a Map at max keys, dropping the oldest inserted first; updates keep their place', () => {
    const map = new Map<string, number>()
    setBounded(map, 3, 'a', 1)
    setBounded(map, 3, 'b', 2)
    setBounded(map, 3, 'c', 3)
    setBounded(map, 3, 'a', 10) // an update, not a new key: nothing dropped
    expect([...map]).toEqual([
      ['a', 10],
      ['b', 2],
      ['c', 3],
    ])
    setBounded(map, 3, 'd', 4)
    expect([...map.keys()]).toEqual(['b', 'c', 'd'])
    map.delete('c')
    setBounded(map, 3, 'e', 5)
    expect([...map.keys()]).toEqual(['b', 'd', 'e'])
  })
})
