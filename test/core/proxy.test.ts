import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { parseAuthorization } from '../../src/core/auth/authorization.js'
import type { UserTokenVerifier } from '../../src/core/auth/user-token-verifier.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../src/core/evotor-error.js'
import { createEvotorProxy } from '../../src/core/proxy.js'

const tokens = createUserTokens({ secret: 'proxy-test-secret-0123456789-abcdefghij' })
const USER = '01-000000000000001'
const token = await tokens.issue(USER)
const headers = {
  authorization: `Bearer ${token}`,
  'x-evotor-store-uuid': '20170228-F4F1-401B-80FA-9ECCA8451FFB',
  'x-evotor-device-uuid': '20170222-D58C-40E0-8051-B53ADFF38860',
  'x-evotor-user-id': USER,
}

describe('createEvotorProxy', () => {
  it('returns the verified context, ids exactly as sent', async () => {
    const proxy = createEvotorProxy({ userTokens: tokens })
    await expect(proxy.authenticate(headers)).resolves.toMatchObject({
      userId: USER,
      storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
      deviceUuid: '20170222-D58C-40E0-8051-B53ADFF38860',
    })
  })

  it('checks the token before the headers: malformed ids without a token are 401, not 400', async () => {
    const proxy = createEvotorProxy({ userTokens: tokens })
    const { authorization: _, ...noToken } = headers
    await expect(
      proxy.authenticate({ ...noToken, 'x-evotor-store-uuid': 'bad\u0001' }),
    ).rejects.toMatchObject({
      status: 401,
      code: 1002,
    })
    await expect(proxy.authenticate({ ...headers, authorization: 'Basic dTpw' })).rejects.toMatchObject({
      code: 1002,
    })
    await expect(
      proxy.authenticate({ ...headers, 'x-evotor-user-id': '01-000000000000002' }),
    ).rejects.toMatchObject({ code: 1002 })
    const { 'x-evotor-store-uuid': __, ...noStore } = headers
    await expect(proxy.authenticate(noStore)).rejects.toMatchObject({
      code: 2002,
      subject: 'X-Evotor-Store-Uuid',
    })
  })

  it('logs failures that are not EvotorErrors and answers them 500 {} (enveloped in ver. 1)', () => {
    const logger = { error: vi.fn() }
    const proxy = createEvotorProxy({ userTokens: tokens, proxyVersion: 1, logger })
    const answer = proxy.errorResponse(new Error('ECONNREFUSED 10.0.0.5:5432'))
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ status: 500, body: '{}' })
    expect(logger.error).toHaveBeenCalledWith(expect.any(String), {
      error: 'Error: ECONNREFUSED 10.0.0.5:5432',
    })
    proxy.errorResponse(EvotorError.invalidUserToken())
    expect(logger.error).toHaveBeenCalledOnce()
  })

  it('renders http-errors style 4xx with their message, and validates its options', () => {
    const proxy = createEvotorProxy({ userTokens: tokens })
    const notFound = Object.assign(new Error('No such receipt'), { status: 404, expose: true })
    expect(proxy.errorResponse(notFound)).toMatchObject({ status: 404, body: 'No such receipt' })
    expect(() => createEvotorProxy({ userTokens: tokens, proxyVersion: 3 as never })).toThrow(/proxyVersion/)
    expect(() => createEvotorProxy({ userTokens: tokens, requiredHeaders: ['shop' as never] })).toThrow(
      /requiredHeaders/,
    )
    expect(() => createEvotorProxy({ userTokens: {} as never })).toThrow(/userTokens/)
  })

  it('authenticateCached: undefined until the token is cached, then the context synchronously', async () => {
    const fresh = createUserTokens({ secret: 'proxy-test-secret-0123456789-abcdefghij' })
    const proxy = createEvotorProxy({ userTokens: fresh })
    expect(proxy.authenticateCached?.(headers)).toBeUndefined()
    const context = await proxy.authenticate(headers)
    expect(proxy.authenticateCached?.(headers)).toEqual(context)
    fresh.revokeToken(token)
    expect(proxy.authenticateCached?.(headers)).toBeUndefined()
  })

  it('authenticateCached keeps the order: token first, then the X-Evotor-* headers', async () => {
    const fresh = createUserTokens({ secret: 'proxy-test-secret-0123456789-abcdefghij' })
    const proxy = createEvotorProxy({ userTokens: fresh })
    const cached = proxy.authenticateCached?.bind(proxy) as NonNullable<typeof proxy.authenticateCached>
    const repeatedStore = { ...headers, 'x-evotor-store-uuid': ['a', 'b'] as unknown as string }
    // Not cached yet: the ids are not even looked at.
    expect(cached(repeatedStore)).toBeUndefined()
    await expect(proxy.authenticate(repeatedStore)).rejects.toMatchObject({ status: 400, code: 2003 })
    await proxy.authenticate(headers)
    expect(() => cached(repeatedStore)).toThrow(expect.objectContaining({ code: 2003 }))
    for (const authorization of [undefined, 'Basic dTpw', 'Bearer a b', ['Bearer x', 'Bearer y']]) {
      const sent = { ...headers, authorization: authorization as string }
      if (authorization === undefined) delete (sent as Record<string, unknown>).authorization
      expect(() => cached({ ...sent, 'x-evotor-store-uuid': 'bad\u0001' })).toThrow(
        expect.objectContaining({ status: 401, code: 1002 }),
      )
    }
    const { 'x-evotor-store-uuid': _, ...noStore } = headers
    expect(() => cached(noStore)).toThrow(expect.objectContaining({ code: 2002 }))
    expect(() => cached({ ...headers, 'x-evotor-user-id': '01-000000000000002' })).toThrow(
      expect.objectContaining({ code: 1002 }),
    )
  })

  it("authenticateCached with origin 'node' answers as the scan does for Node's lower-case header objects", async () => {
    const fresh = createUserTokens({ secret: 'proxy-test-secret-0123456789-abcdefghij' })
    const proxy = createEvotorProxy({ userTokens: fresh })
    await proxy.authenticate(headers)
    const outcome = (h: Record<string, unknown>, origin?: 'node') => {
      try {
        return { context: proxy.authenticateCached?.(h as Record<string, string>, origin) }
      } catch (error) {
        return { error: (error as EvotorError).toBody() }
      }
    }
    const { 'x-evotor-store-uuid': _, ...noStore } = headers
    const variants: Record<string, unknown>[] = [
      headers,
      noStore,
      { ...headers, 'x-evotor-store-uuid': ['a', 'b'] },
      { ...headers, 'x-evotor-store-uuid': ['a'] },
      { ...headers, 'x-evotor-user-id': 'u1, u2' },
      { ...headers, 'x-evotor-user-id': '01-000000000000002' },
      { ...headers, 'x-evotor-device-uuid': ' d\t' },
      { ...headers, authorization: `bearer   ${token}` },
      { ...headers, authorization: `Bearer ${token} x` },
      { ...headers, authorization: [`Bearer ${token}`, 'Bearer y'] },
      { ...headers, authorization: 42 },
    ]
    for (const variant of variants) expect(outcome(variant, 'node')).toEqual(outcome(variant))
    // A cached token is found under the plain `Bearer <token>` without its characters being scanned.
    expect(outcome(headers, 'node').context).toMatchObject({ userId: USER })
  })

  it('a repeat of the same token and ids reuses the checked context; any other value is checked anew', async () => {
    const proxy = createEvotorProxy({ userTokens: tokens, strict: true })
    await tokens.verify(token)
    const first = proxy.authenticateCached?.({ ...headers }, 'node')
    const again = proxy.authenticateCached?.({ ...headers }, 'node')
    expect(again).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    expect(() => {
      ;(first as { storeUuid?: string }).storeUuid = 'other'
    }).toThrow(TypeError)
    // Another store of the same user: its own context, with its own id.
    const otherStore = { ...headers, 'x-evotor-store-uuid': '20170228-0000-401B-80FA-9ECCA8451FFB' }
    expect(proxy.authenticateCached?.(otherStore, 'node')?.storeUuid).toBe(otherStore['x-evotor-store-uuid'])
    // After a success, what would have failed still fails, whichever value changed.
    for (const [name, value, code] of [
      ['x-evotor-user-id', '01-000000000000002', 1002],
      ['x-evotor-store-uuid', 'not-a-uuid', 2003],
      ['x-evotor-device-uuid', 'bad\u0001', 2003],
      ['x-evotor-store-uuid', `${headers['x-evotor-store-uuid']}, ${headers['x-evotor-store-uuid']}`, 2003],
    ] as const) {
      expect(() => proxy.authenticateCached?.({ ...headers, [name]: value }, 'node')).toThrow(
        expect.objectContaining({ code }),
      )
      expect(proxy.authenticateCached?.({ ...headers }, 'node')).toMatchObject({
        storeUuid: headers['x-evotor-store-uuid'],
      })
    }
    const { 'x-evotor-device-uuid': _, ...noDevice } = headers
    expect(() => proxy.authenticateCached?.(noDevice, 'node')).toThrow(
      expect.objectContaining({ code: 2002 }),
    )
    // A revoked token never reaches the reused context.
    tokens.revokeToken(token)
    expect(proxy.authenticateCached?.({ ...headers }, 'node')).toBeUndefined()
    await tokens.verify(token)
  })

  it('a custom verifier that reuses one mutable result object never gets another user a reused context', async () => {
    const shared = { userId: '' }
    const owners: Record<string, string> = { 'token-a': USER, 'token-b': '01-000000000000002' }
    const verifier: UserTokenVerifier = {
      verify: async (t) => Object.assign(shared, { userId: owners[t] ?? '' }),
      peek: (t) => Object.assign(shared, { userId: owners[t] ?? '' }),
      revokeToken() {},
      revokeUser() {},
    }
    const proxy = createEvotorProxy({ userTokens: verifier, requiredHeaders: ['storeUuid'] })
    const { 'x-evotor-user-id': _, ...ids } = headers
    expect(proxy.authenticateCached?.({ ...ids, authorization: 'Bearer token-a' }, 'node')?.userId).toBe(USER)
    // B sends A's store and device and no user id: B's own context, not A's.
    expect(proxy.authenticateCached?.({ ...ids, authorization: 'Bearer token-b' }, 'node')?.userId).toBe(
      '01-000000000000002',
    )
    // B forges A's user id after A's request: refused, as without the reuse.
    expect(() => proxy.authenticateCached?.({ ...headers, authorization: 'Bearer token-b' }, 'node')).toThrow(
      expect.objectContaining({ code: 1002 }),
    )
  })

  it('works with a verifier without peek (always the asynchronous path)', async () => {
    const verifier: UserTokenVerifier = {
      verify: async (t) => (t === 'good' ? { userId: USER } : Promise.reject(EvotorError.invalidUserToken())),
      revokeToken: () => {},
      revokeUser: () => {},
    }
    const proxy = createEvotorProxy({ userTokens: verifier })
    expect(proxy.authenticateCached?.({ ...headers, authorization: 'Bearer good' })).toBeUndefined()
    await expect(proxy.authenticate({ ...headers, authorization: 'Bearer good' })).resolves.toMatchObject({
      userId: USER,
      storeUuid: headers['x-evotor-store-uuid'],
    })
    await expect(proxy.authenticate({ ...headers, authorization: 'good' })).resolves.toMatchObject({
      userId: USER,
    })
  })

  it('passes the verifier the same token parseAuthorization reads, for any Authorization value', async () => {
    let seen: string | undefined
    const verifier: UserTokenVerifier = {
      verify: async (t) => {
        seen = t
        return { userId: USER }
      },
      revokeToken: () => {},
      revokeUser: () => {},
    }
    const proxy = createEvotorProxy({ userTokens: verifier })
    const value = fc.oneof(
      fc.string(),
      fc.string().map((t) => `Bearer ${t}`),
      fc.string().map((t) => `bearer\t${t} `),
      fc.constantFrom('Bearer ', 'Bearer  x', 'Bearer x ', 'Bearer\u0000x', 'Bearer x\u007f', 'Bearer é'),
    )
    await fc.assert(
      fc.asyncProperty(value, async (authorization) => {
        seen = undefined
        let expected: string | undefined
        try {
          const parsed = parseAuthorization(authorization)
          expected = parsed.scheme === 'bearer' ? parsed.token : undefined
        } catch {
          expected = undefined
        }
        const outcome = await proxy.authenticate({ ...headers, authorization }).then(
          () => 'ok',
          (error: { code?: number }) => error.code,
        )
        expect(seen).toBe(expected)
        expect(outcome).toBe(expected === undefined ? 1002 : 'ok')
      }),
    )
  })
})
