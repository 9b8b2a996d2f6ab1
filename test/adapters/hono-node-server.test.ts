import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { withEvotorProxy } from '../../src/adapters/fetch.js'
import {
  type EvotorEnv,
  evotorProxy,
  getEvotorContext,
  withEvotorProxy as withHonoProxy,
} from '../../src/adapters/hono.js'
import { incomingOf } from '../../src/adapters/hono-node-server.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorTrpcContext } from '../../src/core/evotor-context.js'
import { listen, type Started } from './helpers/harness.js'
import { rawRequest } from './helpers/raw-http.js'

const USER = '01-000000000000001'
const tokens = createUserTokens({ secret: 'fetch-node-headers-test-secret-32-bytes' })

describe('the Fetch adapter on @hono/node-server reads Node’s own header object', () => {
  let seen: { origin: string | undefined; userId: unknown; built: boolean }[] = []
  let server: Started
  const proxied = withEvotorProxy({ userTokens: tokens }, (_request, evotor) => Response.json(evotor.userId))

  beforeAll(async () => {
    server = await listen(
      createAdaptorServer({
        fetch: (request: Request) => {
          const url = new URL(request.url)
          if (url.pathname === '/api/proxied') return proxied(request)
          const headers = incomingOf(request)?.headers
          const userId = headers?.['x-evotor-user-id']
          seen.push({
            origin: headers === undefined ? undefined : 'node',
            userId,
            built: !(headers instanceof Headers),
          })
          return new Response('ok')
        },
      }) as Server,
    )
  })
  afterAll(() => server.close())

  it("hands over the IncomingMessage's headers (origin 'node') instead of building a Fetch Headers", async () => {
    seen = []
    await fetch(`${server.url}/x`, { headers: { 'X-Evotor-User-Id': USER } })
    expect(seen).toEqual([{ origin: 'node', userId: USER, built: true }])
  })

  it('finds no IncomingMessage in a real Request (its own Headers are read)', () => {
    const request = new Request('http://localhost/x', { headers: { 'x-evotor-user-id': USER } })
    expect(incomingOf(request)).toBeUndefined()
  })

  it('verifies the token and the ids from those headers, as Koa and Express read them', async () => {
    const token = await tokens.issue(USER)
    const head = (authorization: string, user = USER) =>
      `GET /api/proxied HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nX-Evotor-User-Id: ${user}\r\n` +
      'X-Evotor-Store-Uuid: s\r\nX-Evotor-Device-Uuid: d\r\nConnection: close\r\n\r\n'
    const ok = await rawRequest(server.url, head(`Bearer ${token}`))
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toBe(USER)
    const forged = await rawRequest(server.url, head(`Bearer ${token}`, '01-000000000000002'))
    expect(forged.status).toBe(401)
    const repeated = await rawRequest(
      server.url,
      head(`Bearer ${token}`).replace('X-Evotor-User-Id', `X-Evotor-User-Id: ${USER}\r\nX-Evotor-User-Id`),
    )
    expect(repeated.status).toBe(400)
    expect(JSON.parse(repeated.body)).toEqual({
      errors: [{ code: 2003, reason: 'incorrect', subject: 'X-Evotor-User-Id', value: `${USER}, ${USER}` }],
    })
  })
})

describe('ver. 1 on @hono/node-server reads a string body as it was given', () => {
  let server: Started

  beforeAll(async () => {
    const app = new Hono<EvotorEnv>()
    app.use('/api/*', evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
    app.get('/api/created', (c) =>
      c.json({ id: 'r-1', by: c.get('evotor').userId }, 201, { 'x-trace': 't-1' }),
    )
    app.get('/api/lone', (c) => c.text('a\uD800b'))
    app.get('/api/bytes', (c) => c.body(new TextEncoder().encode('bytes')))
    app.get('/api/set-header', (c) => {
      c.header('X-Route', 'r-1') // Hono then hands the Response a Headers object
      return c.json({ ok: true }, 202)
    })
    app.get(
      '/api/plain-headers',
      () =>
        new Response('plain', { headers: { 'Content-Type': 'text/plain', ETag: '"e-1"', 'X-Kept': 'k' } }),
    )
    // What only Headers' own rules answer: a value with spaces around it, a name given twice.
    app.get(
      '/api/spaced',
      () => new Response('s', { headers: { 'X-Spaced': '  v  ', 'content-type': 'text/plain' } }),
    )
    app.get('/api/twice', () => new Response('t', { headers: { 'X-Twice': 'a', 'x-twice': 'b' } }))
    // Headers a Fetch `Headers` refuses, or that Node would refuse to send: still an envelope.
    app.get('/api/refused-value', () => new Response('x', { headers: { 'X-Name': 'Иван' } }))
    app.get('/api/refused-name', () => new Response('x', { headers: { 'X Bad Name': 'v' } }))
    app.get('/api/kelvin', () => new Response('x', { headers: { '\u212Aey': 'v' } }))
    app.get('/api/cookies', (c) => {
      c.header('Set-Cookie', 'a=1', { append: true })
      c.header('Set-Cookie', 'b=2', { append: true })
      return c.json({ cookies: 2 })
    })
    server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  })
  afterAll(() => server.close())

  const get = async (path: string) => {
    const token = await tokens.issue(USER)
    return fetch(`${server.url}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-evotor-user-id': USER,
        'x-evotor-store-uuid': 's',
        'x-evotor-device-uuid': 'd',
      },
    })
  }

  it('keeps the status, the JSON text and the route’s own headers', async () => {
    const response = await get('/api/created')
    expect(response.status).toBe(200)
    expect(response.headers.get('x-trace')).toBe('t-1')
    expect(await response.json()).toEqual({ status: 201, body: JSON.stringify({ id: 'r-1', by: USER }) })
  })

  it('turns a lone surrogate into U+FFFD, as the bytes of a full Response would', async () => {
    expect(await (await get('/api/lone')).json()).toEqual({ status: 200, body: 'a\uFFFDb' })
  })

  it('still reads a body given as bytes', async () => {
    expect(await (await get('/api/bytes')).json()).toEqual({ status: 200, body: 'bytes' })
  })
  it('keeps the headers a route set with c.header, and drops the inner-only ones of a plain header object', async () => {
    const set = await get('/api/set-header')
    expect(set.headers.get('x-route')).toBe('r-1')
    expect(await set.json()).toEqual({ status: 202, body: '{"ok":true}' })
    const plain = await get('/api/plain-headers')
    expect(plain.headers.get('x-kept')).toBe('k')
    expect(plain.headers.get('etag')).toBeNull()
    expect(plain.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    expect(await plain.json()).toEqual({ status: 200, body: 'plain' })
  })

  it('a header Fetch Headers refuses answers the 500 envelope, without the header or its error', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      for (const path of ['/api/refused-value', '/api/refused-name', '/api/kelvin']) {
        const response = await get(path)
        expect(response.status).toBe(200)
        expect(response.headers.get('key')).toBeNull()
        expect(await response.json()).toEqual({ status: 500, body: '{}' })
      }
    } finally {
      logged.mockRestore()
    }
  })

  it('reads only the own keys of a header object (not what Object.prototype was given)', async () => {
    const proto = Object.prototype as Record<string, unknown>
    proto['x-polluted'] = '1'
    try {
      const response = await get('/api/plain-headers')
      expect(response.headers.get('x-polluted')).toBeNull()
      expect(response.headers.get('x-kept')).toBe('k')
    } finally {
      delete proto['x-polluted']
    }
  })

  it('keeps each of several Set-Cookie headers under the envelope', async () => {
    const response = await get('/api/cookies')
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(await response.json()).toEqual({ status: 200, body: '{"cookies":2}' })
  })

  it('reads headers only Fetch Headers can settle (spaces around a value, a name twice) as Headers do', async () => {
    const spaced = await get('/api/spaced')
    expect(spaced.headers.get('x-spaced')).toBe('v')
    const twice = await get('/api/twice')
    expect(twice.headers.get('x-twice')).toBe('a, b')
    expect(await twice.json()).toEqual({ status: 200, body: 't' })
  })
})

describe('on @hono/node-server the context is found from the Request', () => {
  let server: Started
  const seen = (request: Request) => ({
    context: getEvotorContext(request)?.userId ?? null,
    trpc: createEvotorTrpcContext({ req: request }).evotor.userId,
  })

  beforeAll(async () => {
    const app = new Hono<EvotorEnv>()
    app.use('/mw/*', evotorProxy({ userTokens: tokens }))
    app.get('/mw/x', (c) => c.json({ ...seen(c.req.raw), var: c.get('evotor').userId }))
    app.get(
      '/route',
      withHonoProxy({ userTokens: tokens }, (c) =>
        c.json({ ...seen(c.req.raw), var: c.get('evotor').userId }),
      ),
    )
    const fetchRoute = withEvotorProxy({ userTokens: tokens }, (request, evotor) =>
      Response.json({ ...seen(request), var: evotor.userId }),
    )
    app.get('/fetch', (c) => fetchRoute(c.req.raw))
    app.get('/bare', (c) => c.json({ context: getEvotorContext(c.req.raw) ?? null }))
    server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  })
  afterAll(() => server.close())

  it('for the middleware, the Hono route and the Fetch route, as getEvotorContext and tRPC read it', async () => {
    const token = await tokens.issue(USER)
    const headers = {
      authorization: `Bearer ${token}`,
      'x-evotor-user-id': USER,
      'x-evotor-store-uuid': 's',
      'x-evotor-device-uuid': 'd',
    }
    for (const path of ['/mw/x', '/route', '/fetch']) {
      const response = await fetch(`${server.url}${path}`, { headers })
      expect(response.status, path).toBe(200)
      expect(await response.json(), path).toEqual({ context: USER, trpc: USER, var: USER })
    }
    const bare = await fetch(`${server.url}/bare`, { headers })
    expect(await bare.json()).toEqual({ context: null })
  })
})
