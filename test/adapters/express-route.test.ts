import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorErrorHandler, withEvotorProxy } from '../../src/adapters/express.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../src/core/evotor-error.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { proxyHeaders, type Started, serve } from './helpers/harness.js'

const USER = '01-000000000000001'
const tokens = createUserTokens({ secret: 'express-route-test-secret-32-bytes!!!' })

describe('evotor-partner/express withEvotorProxy (one typed route behind the proxy)', () => {
  let server: Started
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = await proxyHeaders(tokens, USER, 'Store-1')
    const storeProxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
    const app = express()
    app.get(
      '/stock',
      withEvotorProxy(storeProxy, (req, res) => {
        res.json({
          user: req.evotor.userId,
          store: req.evotor.storeUuid,
          device: req.evotor.deviceUuid ?? null,
        })
      }),
    )
    app.get(
      '/v1',
      withEvotorProxy({ userTokens: tokens, proxyVersion: 1 }, (req, res) => {
        res.status(404).json({ missing: req.evotor.deviceUuid })
      }),
    )
    app.get(
      '/thrown',
      withEvotorProxy({ userTokens: tokens }, () => {
        throw EvotorError.deviceNotLicensed('device-1')
      }),
    )
    app.get(
      '/rejected',
      withEvotorProxy({ userTokens: tokens }, async () => {
        throw EvotorError.paymentRequired(USER)
      }),
    )
    app.use(evotorErrorHandler())
    server = await serve(app)
  })
  afterAll(() => server.close())

  it('runs the route with the verified context after the proxy', async () => {
    const { 'x-evotor-device-uuid': _device, ...withoutDevice } = headers
    const response = await fetch(`${server.url}/stock`, { headers: withoutDevice })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ user: USER, store: 'Store-1', device: null })
  })

  it('answers for the proxy before the route runs: no token 401, a required header missing 400', async () => {
    const noToken = await fetch(`${server.url}/stock`, { headers: { 'x-evotor-user-id': USER } })
    expect(noToken.status).toBe(401)
    expect(await noToken.json()).toMatchObject({ errors: [{ code: 1002 }] })
    const { 'x-evotor-store-uuid': _store, ...withoutStore } = headers
    const noStore = await fetch(`${server.url}/stock`, { headers: withoutStore })
    expect(noStore.status).toBe(400)
    expect(await noStore.json()).toMatchObject({ errors: [{ code: 2002 }] })
  })

  it('keeps ver. 1: the route answer is enveloped with HTTP 200', async () => {
    const response = await fetch(`${server.url}/v1`, { headers })
    expect(response.status).toBe(200)
    const envelope = (await response.json()) as { status: number; body: string }
    expect(envelope.status).toBe(404)
    expect(JSON.parse(envelope.body)).toEqual({ missing: 'device-1' })
  })

  it('sends a thrown error and a rejected promise to next(err)', async () => {
    const thrown = await fetch(`${server.url}/thrown`, { headers })
    expect(thrown.status).toBe(405)
    expect(await thrown.json()).toMatchObject({ errors: [{ code: 1005 }] })
    const rejected = await fetch(`${server.url}/rejected`, { headers })
    expect(rejected.status).toBe(402)
    expect(await rejected.json()).toMatchObject({ errors: [{ code: 1004 }] })
  })

  it('refuses a handler that is not a function when the route is built', () => {
    expect(() => withEvotorProxy({ userTokens: tokens }, undefined as never)).toThrow(TypeError)
  })
})
