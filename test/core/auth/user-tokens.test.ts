import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { createUserTokens, type IssuedUserToken } from '../../../src/core/auth/user-tokens.js'
import { isEvotorError } from '../../../src/core/evotor-error.js'

const SECRET = 'test-secret-0123456789-abcdefghijklmnop'
const OLD_SECRET = 'old-secret-0123456789-abcdefghijklmnopq'
const NEW_SECRET = new TextEncoder().encode('new-secret-as-bytes-0123456789-abcdefgh')
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,128}$/
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const utf8Length = (s: string) => new TextEncoder().encode(s).length

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

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

const userIdArbitrary = fc.oneof(
  fc.stringMatching(/^[0-9]{2}-[0-9]{15}$/),
  fc.string({ minLength: 1, maxLength: 48 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).filter((s) => utf8Length(s) <= 48),
)

describe('createUserTokens options', () => {
  it('rejects short, empty, duplicate or mistyped secrets with a TypeError naming `secret`', () => {
    expect(() => createUserTokens({ secret: 'x'.repeat(31) })).toThrow(/`secret`.*32 bytes/)
    // Long enough but guessable: fewer than 8 distinct bytes.
    expect(() => createUserTokens({ secret: 'a'.repeat(32) })).toThrow(
      /`secret` has fewer than 8 distinct bytes/,
    )
    expect(() => createUserTokens({ secret: 'abcdefg'.repeat(6) })).toThrow(/openssl rand -base64 48/)
    expect(() => createUserTokens({ secret: 'abcdefgh'.repeat(4) })).not.toThrow()
    expect(() => createUserTokens({ secret: new Uint8Array(31) })).toThrow(/`secret`/)
    expect(() => createUserTokens({ secret: [SECRET, 'short'] })).toThrow(/`secret\[1\]`/)
    expect(() => createUserTokens({ secret: [] })).toThrow(/`secret`/)
    expect(() => createUserTokens({ secret: [SECRET, SECRET] })).toThrow(/`secret\[1\]` duplicates/)
    expect(() => createUserTokens({ secret: 42 as never })).toThrow(TypeError)
    expect(() => createUserTokens({ secret: 'abcdefgh'.repeat(4) })).not.toThrow()
  })

  it('rejects bad expiresIn, maxUserIdLength, cache, isRevoked and now options by name', () => {
    expect(() => createUserTokens({ secret: SECRET, expiresIn: 0 })).toThrow(/`expiresIn`/)
    expect(() => createUserTokens({ secret: SECRET, expiresIn: 1.5 })).toThrow(/`expiresIn`/)
    expect(() => createUserTokens({ secret: SECRET, expiresIn: 2 ** 32 })).toThrow(/`expiresIn`/)
    expect(() => createUserTokens({ secret: SECRET, maxUserIdLength: 0 })).toThrow(/`maxUserIdLength`/)
    // 53 bytes is the most that fits in 128 characters without expiry, 49 with one.
    expect(() => createUserTokens({ secret: SECRET, maxUserIdLength: 53 })).not.toThrow()
    expect(() => createUserTokens({ secret: SECRET, maxUserIdLength: 54 })).toThrow(/`maxUserIdLength`/)
    expect(() => createUserTokens({ secret: SECRET, expiresIn: 60, maxUserIdLength: 50 })).toThrow(
      /`maxUserIdLength`/,
    )
    expect(() => createUserTokens({ secret: SECRET, cache: { max: 0 } })).toThrow(/`cache.max`/)
    expect(() => createUserTokens({ secret: SECRET, cache: { ttl: -1 } })).toThrow(/`cache.ttl`/)
    expect(() => createUserTokens({ secret: SECRET, cache: 'yes' as never })).toThrow(/`cache`/)
    expect(() => createUserTokens({ secret: SECRET, isRevoked: true as never })).toThrow(/`isRevoked`/)
    expect(() => createUserTokens({ secret: SECRET, now: 5 as never })).toThrow(/`now`/)
    expect(() => createUserTokens(null as never)).toThrow(/`options`/)
  })

  it('does not mutate the options and copies Uint8Array secrets', async () => {
    const bytes = new Uint8Array(NEW_SECRET)
    const options = Object.freeze({ secret: Object.freeze([bytes]), cache: Object.freeze({ max: 5 }) })
    const tokens = createUserTokens(options)
    const token = await tokens.issue('01-000000000015463')
    bytes.fill(0)
    const fresh = createUserTokens({ secret: NEW_SECRET, cache: false })
    await expect(fresh.verify(token)).resolves.toMatchObject({ userId: '01-000000000015463' })
  })
})

describe('issued tokens', () => {
  const tokens = createUserTokens({ secret: SECRET })
  const expiring = createUserTokens({ secret: SECRET, expiresIn: 3600 })

  it('are at most 128 characters of [A-Za-z0-9_-] and verify back to their user', async () => {
    await fc.assert(
      fc.asyncProperty(userIdArbitrary, async (userId) => {
        for (const issuer of [tokens, expiring]) {
          const token = await issuer.issue(userId)
          expect(token).toMatch(TOKEN_PATTERN)
          const verified = await issuer.verify(token)
          expect(verified.userId).toBe(userId)
          expect(verified.issuedAt).toBeInstanceOf(Date)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('fit in 128 characters at the longest userId, with and without expiry', async () => {
    const longest = '\u{1F600}'.repeat(12) // 48 UTF-8 bytes
    for (const issuer of [tokens, expiring]) {
      const token = await issuer.issue(longest)
      expect(token.length).toBeLessThanOrEqual(128)
      expect(token).toMatch(TOKEN_PATTERN)
      await expect(issuer.verify(token)).resolves.toMatchObject({ userId: longest })
    }
    const roomy = createUserTokens({ secret: SECRET, maxUserIdLength: 53 })
    const token = await roomy.issue('a'.repeat(53))
    expect(token).toMatch(TOKEN_PATTERN)
    expect(token.length).toBeLessThanOrEqual(128)
  })

  it('reject with 1002 when any single character is changed (fast-check)', async () => {
    const fresh = createUserTokens({ secret: SECRET, cache: false })
    await fc.assert(
      fc.asyncProperty(userIdArbitrary, fc.nat(), async (userId, seed) => {
        const token = await fresh.issue(userId)
        for (let i = 0; i < token.length; i++) {
          const current = ALPHABET.indexOf(token[i]!)
          const other = ALPHABET[(current + 1 + ((seed + i) % 63)) % 64]!
          await expectCode(fresh.verify(token.slice(0, i) + other + token.slice(i + 1)), 1002)
        }
      }),
      { numRuns: 30 },
    )
  })

  it('reject with 1002 for every position changed to every other character', async () => {
    const fresh = createUserTokens({ secret: SECRET, cache: false })
    const token = await fresh.issue('01-000000000015463')
    const verdicts: Promise<unknown>[] = []
    for (let i = 0; i < token.length; i++) {
      for (const other of ALPHABET) {
        if (other === token[i]) continue
        verdicts.push(rejection(fresh.verify(token.slice(0, i) + other + token.slice(i + 1))))
      }
    }
    const errors = await Promise.all(verdicts)
    expect(errors).toHaveLength(token.length * 63)
    expect(errors.every((e) => isEvotorError(e) && e.code === 1002)).toBe(true)
  })

  it('reject truncated, extended, empty and non-string tokens with 1002', async () => {
    const token = await tokens.issue('01-000000000015463')
    await expectCode(tokens.verify(token.slice(0, -1)), 1002)
    await expectCode(tokens.verify(token + 'A'), 1002)
    await expectCode(tokens.verify(token.slice(0, 47)), 1002)
    await expectCode(tokens.verify(''), 1002)
    await expectCode(tokens.verify(`${token}.x`), 1002)
    await expectCode(tokens.verify(undefined as never), 1002)
  })

  it('throw RangeError naming userId for an empty, too long or ill-formed userId', async () => {
    await expect(tokens.issue('')).rejects.toThrow(RangeError)
    await expect(tokens.issue('a'.repeat(49))).rejects.toThrow(/`userId`.*48 UTF-8 bytes long, got 49/)
    await expect(tokens.issue('я'.repeat(25))).rejects.toThrow(RangeError) // 50 bytes
    await expect(tokens.issue('\uD800')).rejects.toThrow(/well-formed/)
    await expect(tokens.issue(42 as never)).rejects.toThrow(TypeError)
    const short = createUserTokens({ secret: SECRET, maxUserIdLength: 10 })
    await expect(short.issue('a'.repeat(11))).rejects.toThrow(RangeError)
    await expect(short.issue('a'.repeat(10))).resolves.toMatch(TOKEN_PATTERN)
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 49, maxLength: 80 }), async (userId) => {
        await expect(tokens.issue(userId)).rejects.toThrow(RangeError)
      }),
      { numRuns: 50 },
    )
  })
})

describe('secret rotation', () => {
  it('verifies tokens of every listed secret and signs with the first one', async () => {
    const before = createUserTokens({ secret: OLD_SECRET })
    const during = createUserTokens({ secret: [NEW_SECRET, OLD_SECRET] })
    const onlyNew = createUserTokens({ secret: NEW_SECRET })
    const onlyOld = createUserTokens({ secret: OLD_SECRET })
    const oldToken = await before.issue('01-000000000000001')
    await expect(during.verify(oldToken)).resolves.toMatchObject({ userId: '01-000000000000001' })
    const newToken = await during.issue('01-000000000000002')
    expect(newToken.slice(0, 4)).not.toBe(oldToken.slice(0, 4))
    await expect(onlyNew.verify(newToken)).resolves.toMatchObject({ userId: '01-000000000000002' })
    await expectCode(onlyOld.verify(newToken), 1002)
  })

  it('rejects with 1002 a token whose secret was removed from the list', async () => {
    await fc.assert(
      fc.asyncProperty(userIdArbitrary, async (userId) => {
        const token = await createUserTokens({ secret: [OLD_SECRET, NEW_SECRET] }).issue(userId)
        await expectCode(createUserTokens({ secret: [NEW_SECRET, SECRET] }).verify(token), 1002)
      }),
      { numRuns: 30 },
    )
  })

  it('passes the key id of the verifying secret to isRevoked', async () => {
    const seen: IssuedUserToken[] = []
    const oldToken = await createUserTokens({ secret: OLD_SECRET }).issue('u1')
    const during = createUserTokens({
      secret: [NEW_SECRET, OLD_SECRET],
      isRevoked: (token) => {
        seen.push(token)
        return false
      },
    })
    const newToken = await during.issue('u2')
    await during.verify(oldToken)
    await during.verify(newToken)
    expect(seen.map((t) => t.keyId)).toEqual([oldToken.slice(0, 4), newToken.slice(0, 4)])
    expect(seen.map((t) => t.userId)).toEqual(['u1', 'u2'])
  })
})

describe('expiry', () => {
  it('does not expire by default (protocol §4.6)', async () => {
    let now = Date.UTC(2024, 0, 1)
    const tokens = createUserTokens({ secret: SECRET, now: () => now, cache: false })
    const token = await tokens.issue('u1')
    now += 50 * 365 * 24 * 3600 * 1000
    const verified = await tokens.verify(token)
    expect(verified.expiresAt).toBeUndefined()
    expect(verified.issuedAt?.getTime()).toBe(Date.UTC(2024, 0, 1))
  })

  it('answers 1003 once expiresIn has passed, also from the cache, without consulting isRevoked', async () => {
    let now = Date.UTC(2024, 0, 1)
    let hookCalls = 0
    const tokens = createUserTokens({
      secret: SECRET,
      expiresIn: 60,
      now: () => now,
      cache: { ttl: 3_600_000 },
      isRevoked: () => {
        hookCalls++
        return false
      },
    })
    const token = await tokens.issue('u1')
    const verified = await tokens.verify(token)
    expect(verified.expiresAt?.getTime()).toBe(now + 60_000)
    now += 59_999
    await expect(tokens.verify(token)).resolves.toMatchObject({ userId: 'u1' })
    expect(hookCalls).toBe(1)
    now += 1
    await expectCode(tokens.verify(token), 1003)
    const uncached = createUserTokens({ secret: SECRET, now: () => now, cache: false, isRevoked: () => true })
    await expectCode(uncached.verify(token), 1003)
  })
})

describe('revocation and caching', () => {
  function setup(cache?: { max?: number; ttl?: number }) {
    const state = { now: 1_000_000, revoked: new Set<string>(), hookCalls: 0 }
    const tokens = createUserTokens({
      secret: SECRET,
      now: () => state.now,
      ...(cache === undefined ? {} : { cache }),
      isRevoked: async ({ userId }) => {
        state.hookCalls++
        return state.revoked.has(userId)
      },
    })
    return { state, tokens }
  }

  it('caches successful verifications: the hook runs once', async () => {
    const { state, tokens } = setup()
    const token = await tokens.issue('u1')
    for (let i = 0; i < 5; i++) await tokens.verify(token)
    expect(state.hookCalls).toBe(1)
    expect(tokens.size).toBe(1)
  })

  it('revokes through the built-in revocations store (the TSDoc example), no hook needed', async () => {
    let now = 1_000_000
    const tokens = createUserTokens({ secret: SECRET, now: () => now })
    expect(tokens.revocations).toBeDefined() // in memory by default
    const old = await tokens.issue('a')
    const other = await tokens.issue('b')
    await tokens.verify(old) // cached
    tokens.revokeUser('a') // drops the cache only: the token is still good
    await expect(tokens.verify(old)).resolves.toMatchObject({ userId: 'a' })
    await tokens.revocations?.revokeUser('a', new Date(now))
    await expectCode(tokens.verify(old), 1002) // the store drops the cached entry at once
    await expect(tokens.verify(other)).resolves.toMatchObject({ userId: 'b' })
    now += 1
    await expect(tokens.verify(await tokens.issue('a'))).resolves.toMatchObject({ userId: 'a' })
  })

  it('fails right after revokeUser once the hook says revoked', async () => {
    const { state, tokens } = setup()
    const a1 = await tokens.issue('a')
    state.now += 1 // same user, same millisecond: the same token
    const a2 = await tokens.issue('a')
    const b = await tokens.issue('b')
    expect(a2).not.toBe(a1)
    await Promise.all([tokens.verify(a1), tokens.verify(a2), tokens.verify(b)])
    expect(state.hookCalls).toBe(3)
    state.revoked.add('a')
    await expect(tokens.verify(a1)).resolves.toMatchObject({ userId: 'a' }) // still cached
    tokens.revokeUser('a')
    await expectCode(tokens.verify(a1), 1002)
    await expectCode(tokens.verify(a2), 1002)
    await expect(tokens.verify(b)).resolves.toMatchObject({ userId: 'b' })
    expect(state.hookCalls).toBe(5) // a1 and a2 re-checked, b still cached
  })

  it('fails right after revokeToken once the hook says revoked', async () => {
    const { state, tokens } = setup()
    const token = await tokens.issue('u1')
    state.now += 1
    const other = await tokens.issue('u1')
    await tokens.verify(token)
    await tokens.verify(other)
    state.revoked.add('u1')
    tokens.revokeToken(token)
    await expectCode(tokens.verify(token), 1002)
    await expect(tokens.verify(other)).resolves.toMatchObject({ userId: 'u1' })
    expect(state.hookCalls).toBe(3)
  })

  it('does not cache rejected tokens: the hook sees every attempt', async () => {
    const { state, tokens } = setup()
    state.revoked.add('u1')
    const token = await tokens.issue('u1')
    await expectCode(tokens.verify(token), 1002)
    await expectCode(tokens.verify(token), 1002)
    expect(state.hookCalls).toBe(2)
    expect(tokens.size).toBe(0)
  })

  it('re-checks after the cache ttl', async () => {
    const { state, tokens } = setup({ ttl: 1000 })
    const token = await tokens.issue('u1')
    await tokens.verify(token)
    state.now += 1000
    await tokens.verify(token)
    expect(state.hookCalls).toBe(1)
    state.now += 1
    await tokens.verify(token)
    expect(state.hookCalls).toBe(2)
  })

  it('passes a throwing hook through as-is and does not cache', async () => {
    const failure = new Error('database down')
    let calls = 0
    const tokens = createUserTokens({
      secret: SECRET,
      isRevoked: () => {
        calls++
        throw failure
      },
    })
    const token = await tokens.issue('u1')
    await expect(tokens.verify(token)).rejects.toBe(failure)
    await expect(tokens.verify(token)).rejects.toBe(failure)
    expect(calls).toBe(2)
  })

  it('coalesces 100 parallel verifications of one token into one hook call', async () => {
    const { state, tokens } = setup()
    const token = await tokens.issue('u1')
    const results = await Promise.all(Array.from({ length: 100 }, () => tokens.verify(token)))
    expect(results.every((r) => r.userId === 'u1')).toBe(true)
    expect(state.hookCalls).toBe(1)
  })

  it('does not cache a verification that was pending when revokeUser was called', async () => {
    let release: (revoked: boolean) => void = () => {}
    let calls = 0
    const tokens = createUserTokens({
      secret: SECRET,
      isRevoked: () => {
        calls++
        return new Promise<boolean>((resolve) => {
          release = resolve
        })
      },
    })
    const token = await tokens.issue('u1')
    const pending = tokens.verify(token)
    // The hook runs after the signature check and the revocation store: wait for it, not for a time.
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 5000, interval: 5 })
    tokens.revokeUser('u1')
    release(false)
    await expect(pending).resolves.toMatchObject({ userId: 'u1' })
    expect(tokens.size).toBe(0)
    const again = tokens.verify(token)
    await vi.waitFor(() => expect(calls).toBe(2), { timeout: 5000, interval: 5 })
    release(true)
    await expectCode(again, 1002)
  })

  it('with cache: false consults the hook on every verification', async () => {
    let calls = 0
    const tokens = createUserTokens({
      secret: SECRET,
      cache: false,
      isRevoked: () => {
        calls++
        return false
      },
    })
    const token = await tokens.issue('u1')
    await tokens.verify(token)
    await tokens.verify(token)
    expect(calls).toBe(2)
    expect(tokens.size).toBe(0)
  })

  it('stays bounded: 10,000 distinct tokens with max 100 leave at most 100 entries', async () => {
    const tokens = createUserTokens({ secret: SECRET, cache: { max: 100 } })
    const issued = await Promise.all(Array.from({ length: 10_000 }, (_, i) => tokens.issue(`u${i}`)))
    expect(new Set(issued).size).toBe(10_000)
    for (let i = 0; i < issued.length; i += 1000) {
      await Promise.all(issued.slice(i, i + 1000).map((t) => tokens.verify(t)))
    }
    expect(tokens.size).toBeLessThanOrEqual(100)
    expect(tokens.size).toBeGreaterThan(0)
    tokens.revokeUser('u1')
    tokens.clear()
    expect(tokens.size).toBe(0)
  })
})

describe('errors', () => {
  it('are 401 EvotorErrors with WWW-Authenticate and never contain a secret or the token', async () => {
    const secrets = [SECRET, OLD_SECRET, 'short-secret-value']
    const token = await createUserTokens({ secret: OLD_SECRET }).issue('u1')
    const messages: string[] = []
    for (const options of [
      { secret: 'short-secret-value' },
      { secret: [SECRET, 'short-secret-value'] },
      { secret: [SECRET, SECRET] },
      { secret: [OLD_SECRET, SECRET], expiresIn: -1 },
    ]) {
      messages.push(thrown(() => createUserTokens(options)).message)
    }
    const expired = createUserTokens({ secret: SECRET, expiresIn: 1, now: () => 0 })
    const expiredToken = await expired.issue('u1')
    const late = createUserTokens({ secret: SECRET, now: () => 10_000 })
    for (const [verifier, value, code] of [
      [createUserTokens({ secret: SECRET }), token, 1002],
      [late, expiredToken, 1003],
    ] as const) {
      const error = await rejection(verifier.verify(value))
      expect(isEvotorError(error) && error.status).toBe(401)
      expect(isEvotorError(error) && error.code).toBe(code)
      expect(isEvotorError(error) && error.headers['www-authenticate']).toBe('Bearer')
      messages.push(
        (error as Error).message,
        JSON.stringify(error),
        JSON.stringify((error as { items: unknown }).items),
      )
      expect(messages.join('\n')).not.toContain(value)
    }
    const all = messages.join('\n')
    for (const secret of secrets) expect(all).not.toContain(secret)
  })
})

describe('peek', () => {
  it('answers only a cached, unexpired, unrevoked verification, without verifying', async () => {
    let now = Date.UTC(2024, 0, 1)
    const tokens = createUserTokens({ secret: SECRET, expiresIn: 60, now: () => now })
    const token = await tokens.issue('u1')
    const other = await tokens.issue('u2')
    expect(tokens.peek(token)).toBeUndefined() // never verified: peek does not verify
    expect(tokens.size).toBe(0)
    const verified = await tokens.verify(token)
    expect(tokens.peek(token)).toBe(verified)
    expect(tokens.peek(`${token.slice(0, -1)}A`)).toBeUndefined()
    now += 60_000
    expect(tokens.peek(token)).toBeUndefined() // expired: verify() answers 1003
    await expectCode(tokens.verify(token), 1003)
    now -= 60_000
    await tokens.verify(other)
    expect(tokens.peek(other)).toMatchObject({ userId: 'u2' })
    tokens.revokeUser('u2')
    expect(tokens.peek(other)).toBeUndefined()
    await tokens.verify(other)
    tokens.revokeToken(other)
    expect(tokens.peek(other)).toBeUndefined()
  })

  it('is always undefined without a cache', async () => {
    const tokens = createUserTokens({ secret: SECRET, cache: false })
    const token = await tokens.issue('u1')
    await tokens.verify(token)
    expect(tokens.peek(token)).toBeUndefined()
  })
})
