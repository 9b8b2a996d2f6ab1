import { describe, expect, it } from 'vitest'
import {
  createUserTokenLookup,
  type UserTokenLookupResult,
} from '../../../src/core/auth/user-token-lookup.js'
import { isEvotorError } from '../../../src/core/evotor-error.js'

const TOKEN = 'opaque-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

async function expectCode(promise: Promise<unknown>, code: number): Promise<void> {
  const error = await rejection(promise)
  expect(isEvotorError(error)).toBe(true)
  expect((error as { code: number }).code).toBe(code)
}

interface Deferred {
  resolve: (value: UserTokenLookupResult) => void
  reject: (error: unknown) => void
}

/** A token table plus a call log; `now` drives the cache clock. */
function setup(options: { max?: number; ttl?: number; negativeTtl?: number } = {}) {
  const state = {
    now: 1_000_000,
    table: new Map<string, UserTokenLookupResult>(),
    calls: [] as string[],
  }
  const tokens = createUserTokenLookup({
    now: () => state.now,
    cache: options,
    lookup: async (token) => {
      state.calls.push(token)
      await new Promise((resolve) => setTimeout(resolve, 1))
      return state.table.get(token)
    },
  })
  return { state, tokens }
}

describe('createUserTokenLookup options', () => {
  it('throws TypeError naming the bad option', () => {
    expect(() => createUserTokenLookup({} as never)).toThrow(/`lookup`/)
    expect(() => createUserTokenLookup({ lookup: 'x' as never })).toThrow(/`lookup`/)
    const lookup = async () => null
    expect(() => createUserTokenLookup({ lookup, cache: { max: 0 } })).toThrow(/`cache.max`/)
    expect(() => createUserTokenLookup({ lookup, cache: { max: 1.5 } })).toThrow(/`cache.max`/)
    expect(() => createUserTokenLookup({ lookup, cache: { ttl: 0 } })).toThrow(/`cache.ttl`/)
    expect(() => createUserTokenLookup({ lookup, cache: { negativeTtl: -1 } })).toThrow(/`cache.negativeTtl`/)
    expect(() => createUserTokenLookup({ lookup, cache: { negativeTtl: Number.NaN } })).toThrow(
      /`cache.negativeTtl`/,
    )
    expect(() => createUserTokenLookup({ lookup, cache: 1 as never })).toThrow(/`cache`/)
    expect(() => createUserTokenLookup({ lookup, now: 'now' as never })).toThrow(/`now`/)
    expect(() => createUserTokenLookup(undefined as never)).toThrow(/`options`/)
    expect(() => createUserTokenLookup(Object.freeze({ lookup, cache: Object.freeze({}) }))).not.toThrow()
  })
})

describe('verify', () => {
  it('accepts a userId string or { userId, expiresAt } from lookup', async () => {
    const { state, tokens } = setup()
    state.table.set('a', 'user-a')
    state.table.set('b', { userId: 'user-b', expiresAt: new Date(state.now + 1000) })
    await expect(tokens.verify('a')).resolves.toEqual({ userId: 'user-a' })
    await expect(tokens.verify('b')).resolves.toEqual({
      userId: 'user-b',
      expiresAt: new Date(state.now + 1000),
    })
  })

  it('answers 1002 for an unknown token and 1003 for an expired one, also from the cache', async () => {
    const { state, tokens } = setup({ ttl: 60_000 })
    state.table.set('old', { userId: 'u1', expiresAt: new Date(state.now - 1) })
    state.table.set('soon', { userId: 'u1', expiresAt: new Date(state.now + 10) })
    await expectCode(tokens.verify('missing'), 1002)
    await expectCode(tokens.verify('old'), 1003)
    await expect(tokens.verify('soon')).resolves.toMatchObject({ userId: 'u1' })
    state.now += 10
    await expectCode(tokens.verify('soon'), 1003)
    expect(state.calls).toEqual(['missing', 'old', 'soon'])
  })

  it('rejects empty, overlong and non-string tokens with 1002 without calling lookup', async () => {
    const { state, tokens } = setup()
    await expectCode(tokens.verify(''), 1002)
    await expectCode(tokens.verify('x'.repeat(1025)), 1002)
    await expectCode(tokens.verify(null as never), 1002)
    expect(state.calls).toEqual([])
  })

  it('rethrows a failing lookup as-is, shares it with concurrent callers and does not cache it', async () => {
    const failure = new Error('database down')
    let calls = 0
    let fail = true
    const tokens = createUserTokenLookup({
      lookup: async () => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 1))
        if (fail) throw failure
        return 'u1'
      },
    })
    const errors = await Promise.all(Array.from({ length: 10 }, () => rejection(tokens.verify(TOKEN))))
    expect(errors.every((e) => e === failure)).toBe(true)
    expect(isEvotorError(errors[0])).toBe(false)
    expect(calls).toBe(1)
    fail = false
    await expect(tokens.verify(TOKEN)).resolves.toEqual({ userId: 'u1' })
    expect(calls).toBe(2)
  })

  it('rejects with a TypeError (not an EvotorError) when lookup returns a wrong shape', async () => {
    for (const wrong of [42, '', { userId: 7 }, { userId: 'u', expiresAt: 'tomorrow' }, { userId: '' }]) {
      const tokens = createUserTokenLookup({ lookup: () => wrong as never })
      const error = await rejection(tokens.verify(TOKEN))
      expect(error).toBeInstanceOf(TypeError)
      expect(isEvotorError(error)).toBe(false)
      expect(tokens.size).toBe(0)
    }
  })

  it('a synchronously throwing lookup rejects and is retried next time', async () => {
    let calls = 0
    const tokens = createUserTokenLookup({
      lookup: () => {
        calls++
        throw new Error('boom')
      },
    })
    await expect(tokens.verify(TOKEN)).rejects.toThrow('boom')
    await expect(tokens.verify(TOKEN)).rejects.toThrow('boom')
    expect(calls).toBe(2)
  })
})

describe('concurrency', () => {
  it('100 parallel verifications of one unknown token call lookup once', async () => {
    const { state, tokens } = setup()
    const errors = await Promise.all(Array.from({ length: 100 }, () => rejection(tokens.verify(TOKEN))))
    expect(errors.every((e) => isEvotorError(e) && e.code === 1002)).toBe(true)
    expect(state.calls).toHaveLength(1)
  })

  it('100 parallel verifications of one known token call lookup once', async () => {
    const { state, tokens } = setup()
    state.table.set(TOKEN, 'u1')
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.verify(TOKEN)))
    expect(results.every((r) => r.userId === 'u1')).toBe(true)
    expect(state.calls).toHaveLength(1)
  })

  it('coalesces even with cache: false, and then looks up again next time', async () => {
    let calls = 0
    const tokens = createUserTokenLookup({
      cache: false,
      lookup: async () => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 1))
        return 'u1'
      },
    })
    await Promise.all(Array.from({ length: 100 }, () => tokens.verify(TOKEN)))
    expect(calls).toBe(1)
    await tokens.verify(TOKEN)
    expect(calls).toBe(2)
    expect(tokens.size).toBe(0)
  })
})

describe('caching', () => {
  it('caches a hit for ttl and then looks it up again', async () => {
    const { state, tokens } = setup({ ttl: 1000 })
    state.table.set(TOKEN, 'u1')
    await tokens.verify(TOKEN)
    state.now += 1000
    await tokens.verify(TOKEN)
    expect(state.calls).toHaveLength(1)
    state.now += 1
    await tokens.verify(TOKEN)
    expect(state.calls).toHaveLength(2)
  })

  it('caches a miss for negativeTtl (5 s by default) and then looks it up again', async () => {
    const { state, tokens } = setup()
    await expectCode(tokens.verify(TOKEN), 1002)
    state.table.set(TOKEN, 'u1') // the partner stores the token right after
    state.now += 5000
    await expectCode(tokens.verify(TOKEN), 1002)
    expect(state.calls).toHaveLength(1)
    state.now += 1
    await expect(tokens.verify(TOKEN)).resolves.toEqual({ userId: 'u1' })
    expect(state.calls).toHaveLength(2)
  })

  it('does not cache misses with negativeTtl: 0', async () => {
    const { state, tokens } = setup({ negativeTtl: 0 })
    await expectCode(tokens.verify(TOKEN), 1002)
    await expectCode(tokens.verify(TOKEN), 1002)
    expect(state.calls).toHaveLength(2)
  })

  it('stays bounded: 10,000 distinct tokens with max 100 leave at most 100 entries', async () => {
    let calls = 0
    const tokens = createUserTokenLookup({
      cache: { max: 100 },
      lookup: (token) => {
        calls++
        return token.startsWith('known') ? `user-${token.length % 7}` : null
      },
    })
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.allSettled(
        Array.from({ length: 500 }, (_, j) => tokens.verify(`${(i + j) % 2 ? 'known' : 'unknown'}-${i + j}`)),
      )
    }
    expect(calls).toBe(10_000)
    expect(tokens.size).toBeLessThanOrEqual(100)
    expect(tokens.size).toBeGreaterThan(0)
  })

  it('clear() drops hits and misses', async () => {
    const { state, tokens } = setup()
    state.table.set('a', 'u1')
    await tokens.verify('a')
    await rejection(tokens.verify('b'))
    expect(tokens.size).toBe(2)
    tokens.clear()
    expect(tokens.size).toBe(0)
    await tokens.verify('a')
    await rejection(tokens.verify('b'))
    expect(state.calls).toEqual(['a', 'b', 'a', 'b'])
  })
})

describe('revocation', () => {
  it('a cached token fails right after revokeToken', async () => {
    const { state, tokens } = setup()
    state.table.set(TOKEN, 'u1')
    state.table.set('other', 'u1')
    await tokens.verify(TOKEN)
    await tokens.verify('other')
    await tokens.verify(TOKEN)
    expect(state.calls).toEqual([TOKEN, 'other']) // cached
    state.table.delete(TOKEN)
    tokens.revokeToken(TOKEN)
    await expectCode(tokens.verify(TOKEN), 1002)
    await expect(tokens.verify('other')).resolves.toEqual({ userId: 'u1' })
    expect(state.calls).toEqual([TOKEN, 'other', TOKEN])
  })

  it('revokeToken also drops a cached miss', async () => {
    const { state, tokens } = setup()
    await expectCode(tokens.verify(TOKEN), 1002)
    state.table.set(TOKEN, 'u1')
    tokens.revokeToken(TOKEN)
    await expect(tokens.verify(TOKEN)).resolves.toEqual({ userId: 'u1' })
  })

  it("revokeUser drops every cached token of that user and no one else's", async () => {
    const { state, tokens } = setup()
    state.table.set('a1', 'a')
    state.table.set('a2', { userId: 'a' })
    state.table.set('b1', 'b')
    await Promise.all(['a1', 'a2', 'b1'].map((t) => tokens.verify(t)))
    expect(state.calls).toHaveLength(3)
    state.table.delete('a1')
    state.table.delete('a2')
    tokens.revokeUser('a')
    await expectCode(tokens.verify('a1'), 1002)
    await expectCode(tokens.verify('a2'), 1002)
    await expect(tokens.verify('b1')).resolves.toEqual({ userId: 'b' })
    expect(state.calls).toEqual(['a1', 'a2', 'b1', 'a1', 'a2'])
  })

  for (const how of ['revokeToken', 'revokeUser'] as const) {
    it(`${how} during a pending lookup keeps its stale result out of the cache`, async () => {
      const pending: Deferred[] = []
      const tokens = createUserTokenLookup({
        lookup: () =>
          new Promise<UserTokenLookupResult>((resolve, reject) => {
            pending.push({ resolve, reject })
          }),
      })
      const first = tokens.verify(TOKEN)
      const joined = tokens.verify(TOKEN)
      await Promise.resolve()
      expect(pending).toHaveLength(1)
      if (how === 'revokeToken') tokens.revokeToken(TOKEN)
      else tokens.revokeUser('u1')
      const afterRevoke = tokens.verify(TOKEN) // must not join the stale lookup
      await Promise.resolve()
      expect(pending).toHaveLength(2)
      pending[0]!.resolve('u1')
      await expect(first).resolves.toEqual({ userId: 'u1' })
      await expect(joined).resolves.toEqual({ userId: 'u1' })
      expect(tokens.size).toBe(0)
      pending[1]!.resolve(null)
      await expectCode(afterRevoke, 1002)
      // The fresh verdict (a miss) is what got cached.
      await expectCode(tokens.verify(TOKEN), 1002)
      expect(pending).toHaveLength(2)
    })
  }
})

describe('errors', () => {
  it('never contain the token', async () => {
    const { state, tokens } = setup()
    state.table.set('expired-secret-token', { userId: 'u1', expiresAt: new Date(0) })
    for (const token of ['unknown-secret-token', 'expired-secret-token']) {
      const error = await rejection(tokens.verify(token))
      expect(isEvotorError(error) && error.status).toBe(401)
      const text = [(error as Error).message, (error as Error).stack, JSON.stringify(error)].join('\n')
      expect(text).not.toContain(token)
    }
  })
})

describe('peek', () => {
  it('answers only cached hits that are unexpired and unrevoked, never calling lookup', async () => {
    const { state, tokens } = setup({ ttl: 1000 })
    state.table.set(TOKEN, { userId: 'u1', expiresAt: new Date(state.now + 500) })
    expect(tokens.peek(TOKEN)).toBeUndefined()
    expect(state.calls).toHaveLength(0)
    const verified = await tokens.verify(TOKEN)
    expect(tokens.peek(TOKEN)).toBe(verified)
    state.now += 500
    expect(tokens.peek(TOKEN)).toBeUndefined() // the token itself expired: verify() answers 1003
    state.now -= 500
    tokens.revokeUser('u1')
    expect(tokens.peek(TOKEN)).toBeUndefined()
    expect(state.calls).toHaveLength(1)
  })

  it('serves a repeated token (a fresh string each time) as the LRU would: revoked, evicted, replaced or cleared is gone', async () => {
    const copy = (t: string) => [...t].join('') // an equal string that is not the same object
    const { state, tokens } = setup({ max: 2 })
    for (const [t, u] of [
      ['t-a', 'ua'],
      ['t-b', 'ub'],
      ['t-c', 'uc'],
    ] as const)
      state.table.set(t, u)
    const a = await tokens.verify('t-a')
    expect(tokens.peek(copy('t-a'))).toBe(a)
    expect(tokens.peek(copy('t-a'))).toBe(a)
    tokens.revokeToken(copy('t-a'))
    expect(tokens.peek('t-a')).toBeUndefined()
    // Evicted: t-a and t-b cached, t-a read last, then t-c evicts the least recent (t-b).
    await tokens.verify('t-a')
    await tokens.verify('t-b')
    expect(tokens.peek('t-a')?.userId).toBe('ua')
    await tokens.verify('t-c')
    expect(tokens.peek(copy('t-b'))).toBeUndefined()
    expect(tokens.peek(copy('t-a'))?.userId).toBe('ua')
    // The same token stored again after a revocation answers with the new verdict.
    state.table.set('t-a', 'ua2')
    tokens.revokeUser('ua')
    expect(tokens.peek('t-a')).toBeUndefined()
    await expect(tokens.verify('t-a')).resolves.toEqual({ userId: 'ua2' })
    expect(tokens.peek(copy('t-a'))?.userId).toBe('ua2')
    tokens.clear()
    expect(tokens.peek(copy('t-a'))).toBeUndefined()
    expect(tokens.size).toBe(0)
  })

  it('is undefined for a cached miss and for tokens verify() refuses', async () => {
    const { tokens } = setup()
    await expectCode(tokens.verify(TOKEN), 1002)
    expect(tokens.size).toBe(1) // the miss is cached
    expect(tokens.peek(TOKEN)).toBeUndefined()
    expect(tokens.peek('')).toBeUndefined()
    expect(tokens.peek(42 as unknown as string)).toBeUndefined()
  })
})
