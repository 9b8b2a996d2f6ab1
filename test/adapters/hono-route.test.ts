import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  EvotorError,
  getEvotorContext,
  withEvotorProxy,
  withEvotorProxyFor,
} from '../../src/adapters/hono.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { fromProxyV1 } from '../../src/core/proxy-envelope.js'
import { listen, type Started } from './helpers/harness.js'

const A = '01-000000000000001'
const B = '01-000000000000002'
const tokens = createUserTokens({ secret: 'hono-route-test-secret-32-bytes-long!!' })

describe('evotor-partner/hono withEvotorProxy (one route behind the proxy, no middleware)', () => {
  let server: Started
  let headersA: Record<string, string>
  let headersB: Record<string, string>
  const headersOf = async (user: string) => ({
    authorization: `Bearer ${await tokens.issue(user)}`,
    'x-evotor-user-id': user,
    'x-evotor-store-uuid': `store-${user.slice(-1)}`,
  })

  beforeAll(async () => {
    headersA = await headersOf(A)
    headersB = await headersOf(B)
    const storeProxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
    const app = new Hono()
    app.get(
      '/stock',
      withEvotorProxy(storeProxy, (c) => {
        expectTypeOf(c.var.evotor.storeUuid).toEqualTypeOf<string>()
        return c.json({ user: c.var.evotor.userId, store: c.var.evotor.storeUuid })
      }),
    )
    app.get(
      '/slow',
      withEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId'] }, async (c) => {
        const before = c.var.evotor.userId
        await new Promise((resolve) => setTimeout(resolve, 20))
        return c.json({ before, after: c.var.evotor.userId, context: getEvotorContext(c.req.raw)?.userId })
      }),
    )
    app.get(
      '/thrown',
      withEvotorProxy({ userTokens: tokens, requiredHeaders: [] }, () => {
        throw EvotorError.deviceNotLicensed('device-1')
      }),
    )
    app.get(
      '/rejected',
      withEvotorProxy({ userTokens: tokens, requiredHeaders: [] }, async (c) => {
        throw EvotorError.paymentRequired(c.var.evotor.userId)
      }),
    )
    app.get(
      '/bug',
      withEvotorProxy({ userTokens: tokens, requiredHeaders: [] }, () => {
        throw new Error('route bug with an internal detail')
      }),
    )
    app.get(
      '/v1',
      withEvotorProxy({ userTokens: tokens, proxyVersion: 1, requiredHeaders: [] }, (c) => {
        c.header('x-route', 'kept')
        return c.json({ missing: c.var.evotor.deviceUuid ?? null }, 404)
      }),
    )
    app.get(
      '/v1-thrown',
      withEvotorProxy({ userTokens: tokens, proxyVersion: 1, requiredHeaders: [] }, async () => {
        throw EvotorError.paymentRequired(A)
      }),
    )
    app.onError((error, c) => c.text(`onError: ${error.message.length}`, 500))
    server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  })
  afterAll(() => server.close())

  it('runs the route with the verified, typed context', async () => {
    const response = await fetch(`${server.url}/stock`, { headers: headersA })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ user: A, store: 'store-1' })
  })

  it('answers for the proxy before the route runs: no token 401, a required header missing 400, a forged user 401', async () => {
    const anonymous = await fetch(`${server.url}/stock`)
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { errors: { code: number }[] }).errors[0]?.code).toBe(1002)
    const { 'x-evotor-store-uuid': _store, ...withoutStore } = headersA
    const missing = await fetch(`${server.url}/stock`, { headers: withoutStore })
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { errors: { code: number }[] }).errors[0]?.code).toBe(2002)
    // A's token with B's user id: the token decides, and it does not match.
    const forged = await fetch(`${server.url}/stock`, { headers: { ...headersA, 'x-evotor-user-id': B } })
    expect(forged.status).toBe(401)
    const post = await fetch(`${server.url}/stock`, { method: 'POST', headers: headersA })
    expect(post.status).toBe(404)
  })

  it('concurrent requests of two users each see their own user, after an await too', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const user = i % 2 === 0 ? A : B
        const response = await fetch(`${server.url}/slow`, { headers: user === A ? headersA : headersB })
        return { user, body: await response.json() }
      }),
    )
    for (const { user, body } of results) expect(body).toEqual({ before: user, after: user, context: user })
  })

  it('an EvotorError thrown or rejected answers its Evotor body; other errors go to onError', async () => {
    const thrown = await fetch(`${server.url}/thrown`, { headers: headersA })
    expect(thrown.status).toBe(EvotorError.deviceNotLicensed('device-1').status)
    expect(await thrown.json()).toEqual(EvotorError.deviceNotLicensed('device-1').toBody())
    const rejected = await fetch(`${server.url}/rejected`, { headers: headersA })
    expect(rejected.status).toBe(402)
    expect(await rejected.json()).toEqual(EvotorError.paymentRequired(A).toBody())
    const bug = await fetch(`${server.url}/bug`, { headers: headersA })
    expect(bug.status).toBe(500)
    expect(await bug.text()).toMatch(/^onError: \d+$/)
  })

  it('ver. 1: the route answer and a thrown EvotorError come in the {status, body} envelope with HTTP 200', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const v1 = await fetch(`${server.url}/v1`, { headers: headersA })
      expect(v1.status).toBe(200)
      expect(v1.headers.get('x-route')).toBe('kept')
      expect(fromProxyV1(await v1.text(), { parseJson: true })).toEqual({
        status: 404,
        body: { missing: null },
      })
      const thrown = await fetch(`${server.url}/v1-thrown`, { headers: headersA })
      expect(thrown.status).toBe(200)
      expect(fromProxyV1(await thrown.text(), { parseJson: true })).toEqual({
        status: 402,
        body: EvotorError.paymentRequired(A).toBody(),
      })
      const anonymous = await fetch(`${server.url}/v1`)
      expect(anonymous.status).toBe(200)
      expect(fromProxyV1(await anonymous.text()).status).toBe(401)
    } finally {
      logged.mockRestore()
    }
  })

  it('refuses a handler that is not a function', () => {
    expect(() => withEvotorProxy({ userTokens: tokens }, 'nope' as never)).toThrow(TypeError)
  })
})

describe('evotor-partner/hono withEvotorProxyFor (the app Env: bindings and variables beside the context)', () => {
  type AppEnv = {
    Bindings: { incoming: { httpVersion: string } }
    Variables: { requestId: string }
  }
  let server: Started

  beforeAll(async () => {
    const app = new Hono<AppEnv>()
    app.use(async (c, next) => {
      c.set('requestId', `r-${c.req.header('x-request-number') ?? '?'}`)
      await next()
    })
    const evotorRoute = withEvotorProxyFor<AppEnv>()
    app.get(
      '/me',
      evotorRoute({ userTokens: tokens, requiredHeaders: ['userId'] }, (c) =>
        // @hono/node-server passes Node's request as the `incoming` binding.
        c.json({ user: c.var.evotor.userId, requestId: c.var.requestId, http: c.env.incoming.httpVersion }),
      ),
    )
    server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  })
  afterAll(() => server.close())

  it('the route reads the verified user, the variable a middleware set and the binding', async () => {
    const headers = { authorization: `Bearer ${await tokens.issue(B)}`, 'x-evotor-user-id': B }
    const response = await fetch(`${server.url}/me`, { headers: { ...headers, 'x-request-number': '7' } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ user: B, requestId: 'r-7', http: '1.1' })
    const forged = await fetch(`${server.url}/me`, { headers: { ...headers, 'x-evotor-user-id': A } })
    expect(forged.status).toBe(401)
  })
})
