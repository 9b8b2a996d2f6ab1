import { createServer } from 'node:http'
import Koa from 'koa'
import { koaBody } from 'koa-body'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorProxy, evotorWebhooks } from '../../src/adapters/koa.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { createRecordingWebhooks } from './helpers/endpoints.js'
import { listen, type Started } from './helpers/harness.js'

const USER = '01-000000000000001'
const tokens = createUserTokens({ secret: 'koa-adapter-test-secret-32-bytes-long!!' })

describe('evotor-partner/koa', () => {
  let webhooksFirst: Started
  let v1: Started
  let v2: Started
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = {
      authorization: `Bearer ${await tokens.issue(USER)}`,
      'x-evotor-user-id': USER,
      'x-evotor-store-uuid': 'store-1',
      'x-evotor-device-uuid': 'device-1',
    }
    const app = new Koa()
    app.silent = true
    app.use(evotorWebhooks(createRecordingWebhooks(tokens), { bodyLimit: 4096 }))
    app.use(koaBody())
    app.use((ctx) => {
      ctx.body = { echo: (ctx.request as { body?: unknown }).body }
    })
    webhooksFirst = await listen(createServer(app.callback()))

    const routes = (ctx: Koa.Context): void => {
      if (ctx.path === '/conflict') ctx.throw(409, 'conflict here')
      if (ctx.path === '/buffer') {
        ctx.type = 'application/json'
        ctx.body = Buffer.from('{"a":1}')
      }
      if (ctx.path === '/empty') ctx.status = 204
      if (ctx.path === '/encoding') ctx.body = { acceptEncoding: ctx.get('accept-encoding') || null }
      if (ctx.path === '/tagged') {
        ctx.set('ETag', '"inner-v1"')
        ctx.set('Last-Modified', new Date(0).toUTCString())
        ctx.body = { tagged: true }
      }
      if (ctx.path === '/boom') throw new Error('boom')
      if (ctx.path === '/message') {
        ctx.body = { ok: true }
        ctx.message = 'Custom'
      }
    }
    const one = new Koa()
    one.silent = true
    one.use(evotorProxy(createEvotorProxy({ userTokens: tokens, proxyVersion: 1, bodyEncoding: 'json' })))
    one.use(routes)
    v1 = await listen(createServer(one.callback()))
    const two = new Koa()
    two.silent = true
    two.use(evotorProxy({ userTokens: tokens }))
    two.use(routes)
    v2 = await listen(createServer(two.callback()))
  })
  afterAll(async () => {
    await Promise.all([webhooksFirst.close(), v1.close(), v2.close()])
  })

  it('mounted before koa-body: reads webhook bodies itself and leaves other routes to koa-body', async () => {
    const bad = await fetch(`${webhooksFirst.url}/api/v1/user/create`, {
      method: 'POST',
      headers: { authorization: 'Bearer app-secret-0123456789', 'content-type': 'application/json' },
      body: '{"userId":',
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ errors: [{ code: 2001 }] })
    const other = await fetch(`${webhooksFirst.url}/elsewhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    })
    expect(await other.json()).toEqual({ echo: { x: 1 } })
  })

  it("ver. 1: the envelope's status line is 200 OK, whatever reason phrase the route set", async () => {
    const response = await fetch(`${v1.url}/message`, { headers })
    expect([response.status, response.statusText]).toEqual([200, 'OK'])
    expect(await response.json()).toEqual({ status: 200, body: { ok: true } })
    const passed = await fetch(`${v2.url}/message`, { headers })
    expect(passed.statusText).toBe('Custom')
  })

  it('ver. 1: an http-errors style error keeps its status and exposed message', async () => {
    const response = await fetch(`${v1.url}/conflict`, { headers })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 409, body: 'conflict here' })
  })

  it("ver. 1: Buffer and empty bodies (bodyEncoding 'json')", async () => {
    expect(await (await fetch(`${v1.url}/buffer`, { headers })).json()).toEqual({
      status: 200,
      body: { a: 1 },
    })
    expect(await (await fetch(`${v1.url}/empty`, { headers })).json()).toEqual({ status: 204, body: null })
  })

  it('ver. 1: validators of the inner body (ETag, Last-Modified) are not sent on the envelope', async () => {
    const res = await fetch(`${v1.url}/tagged`, { headers })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 200, body: { tagged: true } })
    expect(res.headers.get('etag')).toBeNull()
    expect(res.headers.get('last-modified')).toBeNull()
    const plain = await fetch(`${v2.url}/tagged`, { headers })
    expect(plain.headers.get('etag')).toBe('"inner-v1"')
  })

  it('ver. 1: hides Accept-Encoding from downstream so no compressor encodes the inner body', async () => {
    const res = await fetch(`${v1.url}/encoding`, { headers: { ...headers, 'accept-encoding': 'gzip' } })
    expect(await res.json()).toEqual({ status: 200, body: { acceptEncoding: null } })
  })

  it("ver. 2: other errors go to Koa's own error handling", async () => {
    const response = await fetch(`${v2.url}/boom`, { headers })
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('Internal Server Error')
    const conflict = await fetch(`${v2.url}/conflict`, { headers })
    expect(conflict.status).toBe(409)
    expect(await conflict.text()).toBe('conflict here')
  })
})
