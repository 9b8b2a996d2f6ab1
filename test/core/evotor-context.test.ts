import { describe, expect, it } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import {
  createEvotorTrpcContext,
  getEvotorContext,
  requireEvotorContext,
  setEvotorContext,
} from '../../src/core/evotor-context.js'
import { isEvotorError } from '../../src/core/evotor-error.js'
import { createEvotorProxy, type EvotorProxyContext } from '../../src/core/proxy.js'

const context: EvotorProxyContext = {
  userId: '01-000000000000001',
  storeUuid: 'store',
  deviceUuid: 'device',
  token: { userId: '01-000000000000001' },
}

describe('evotor context store', () => {
  it('returns what was stored for the same request object only', () => {
    const request = new Request('http://localhost/')
    setEvotorContext(request, context)
    expect(getEvotorContext(request)).toBe(context)
    expect(getEvotorContext(new Request('http://localhost/'))).toBeUndefined()
    expect(requireEvotorContext(request)).toBe(context)
  })

  it("finds Express's req.evotor only when the proxy verified it, not a look-alike or a copy", async () => {
    const tokens = createUserTokens({ secret: 'evotor-context-test-secret-32-bytes!!' })
    const userId = '01-000000000000001'
    const verified = await createEvotorProxy({ userTokens: tokens, requiredHeaders: [] }).authenticate({
      authorization: `Bearer ${await tokens.issue(userId)}`,
      'x-evotor-user-id': userId,
    })
    expect(verified).toEqual({ userId, storeUuid: undefined, deviceUuid: undefined, token: verified.token })
    expect(Object.keys(verified)).toEqual(['userId', 'storeUuid', 'deviceUuid', 'token'])
    expect(getEvotorContext({ evotor: verified })).toBe(verified)
    expect(getEvotorContext({ evotor: { ...verified } })).toBeUndefined()
    expect(getEvotorContext({ evotor: context })).toBeUndefined()
    expect(getEvotorContext(JSON.parse(JSON.stringify({ evotor: verified })))).toBeUndefined()
    // Inherited, not the request's own: not found.
    expect(getEvotorContext(Object.create({ evotor: verified }))).toBeUndefined()
    // What setEvotorContext stored wins over req.evotor.
    const req = { evotor: verified }
    setEvotorContext(req, context)
    expect(getEvotorContext(req)).toBe(context)
  })

  it('throws 401/1002 when the request was not verified', () => {
    let thrown: unknown
    try {
      requireEvotorContext({})
    } catch (error) {
      thrown = error
    }
    expect(isEvotorError(thrown)).toBe(true)
    expect(thrown).toMatchObject({ status: 401, code: 1002 })
  })

  it('is shared across module copies through a registered symbol on the request', () => {
    const key = {}
    setEvotorContext(key, context)
    const holder = key as Record<symbol, EvotorProxyContext>
    expect(holder[Symbol.for('evotor-partner.evotorContext')]).toBe(context)
    // Out of Object.keys, for-in and JSON.
    expect(Object.keys(key)).toEqual([])
    expect(JSON.stringify(key)).toBe('{}')
    // What another copy of the module stored is seen here.
    const other = {}
    Object.defineProperty(other, Symbol.for('evotor-partner.evotorContext'), { value: context })
    expect(getEvotorContext(other)).toBe(context)
  })

  it('replaces a stored context and never reads one inherited from a prototype', () => {
    const req = {}
    setEvotorContext(req, context)
    const next = { ...context, storeUuid: 'other' }
    setEvotorContext(req, next)
    expect(getEvotorContext(req)).toBe(next)
    expect(getEvotorContext(Object.create(req))).toBeUndefined()
  })

  it('works for frozen request objects', () => {
    const frozen = Object.freeze({})
    setEvotorContext(frozen, context)
    expect(getEvotorContext(frozen)).toBe(context)
    expect(requireEvotorContext(frozen)).toBe(context)
    expect(getEvotorContext(Object.freeze({}))).toBeUndefined()
  })

  it('createEvotorTrpcContext reads the context of `req`', () => {
    const req = {}
    setEvotorContext(req, context)
    expect(createEvotorTrpcContext({ req })).toEqual({ evotor: context })
    expect(() => createEvotorTrpcContext({ req: {} })).toThrow(/1002/)
  })
})
