import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withEvotorProxy } from '../../src/adapters/fetch.js'
import { fetchRequestHeaders } from '../../src/adapters/fetch-io.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
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
          const [headers, origin] = fetchRequestHeaders(request)
          const userId = (headers as Record<string, unknown>)['x-evotor-user-id']
          seen.push({ origin, userId, built: !(headers instanceof Headers) })
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

  it('gives a real Request its own Headers', () => {
    const request = new Request('http://localhost/x', { headers: { 'x-evotor-user-id': USER } })
    const [headers, origin] = fetchRequestHeaders(request)
    expect(origin).toBeUndefined()
    expect(headers).toBe(request.headers)
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
