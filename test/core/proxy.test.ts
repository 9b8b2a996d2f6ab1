import { describe, expect, it, vi } from 'vitest'
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
})
