import { describe, expect, it } from 'vitest'
import {
  createEvotorTrpcContext,
  getEvotorContext,
  requireEvotorContext,
  setEvotorContext,
} from '../../src/core/evotor-context.js'
import { isEvotorError } from '../../src/core/evotor-error.js'
import type { EvotorProxyContext } from '../../src/core/proxy.js'

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

  it('is shared across module copies through a global symbol', () => {
    const key = {}
    setEvotorContext(key, context)
    const holder = globalThis as Record<symbol, WeakMap<object, EvotorProxyContext>>
    expect(holder[Symbol.for('evotor-partner.evotorContext')]?.get(key)).toBe(context)
  })

  it('createEvotorTrpcContext reads the context of `req`', () => {
    const req = {}
    setEvotorContext(req, context)
    expect(createEvotorTrpcContext({ req })).toEqual({ evotor: context })
    expect(() => createEvotorTrpcContext({ req: {} })).toThrow(/1002/)
  })
})
