import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { HARNESSES, type Harness, type Started } from './helpers/harness.js'
import { rawRequest } from './helpers/raw-http.js'

const tokens = createUserTokens({ secret: 'a-test-secret-that-is-at-least-32-bytes-long' })
const USER = '01-000000000000001'
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'

describe.each(HARNESSES)('$name adapter: methods on proxied routes', (harness: Harness) => {
  let v1: Started
  let v2: Started
  let evotorHeaders: string

  beforeAll(async () => {
    v1 = await harness.proxy(createEvotorProxy({ userTokens: tokens, proxyVersion: 1 }))
    v2 = await harness.proxy(createEvotorProxy({ userTokens: tokens }))
    evotorHeaders = [
      `Authorization: Bearer ${await tokens.issue(USER)}`,
      `X-Evotor-User-Id: ${USER}`,
      'X-Evotor-Store-Uuid: 20170228-F4F1-401B-80FA-9ECCA8451FFB',
      'X-Evotor-Device-UUID: 20170222-D58C-40E0-8051-B53ADFF38860',
    ].join('\r\n')
  })
  afterAll(async () => {
    await v1.close()
    await v2.close()
  })

  const send = (base: Started, method: string, headers = evotorHeaders, path = '/api/json') =>
    rawRequest(base.url, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n\r\n`)

  // (Node's parser itself answers 400 to TRACK, before any app sees it.)
  for (const method of ['TRACE', 'CONNECT', 'PROPFIND', 'PURGE', 'MKCOL']) {
    it(`${method} answers 405 with Allow and body {}, in ver. 2 and ver. 1`, async () => {
      for (const base of [v2, v1]) {
        const answer = await send(base, method)
        expect(answer.status, base === v1 ? 'ver. 1' : 'ver. 2').toBe(405)
        expect(answer.headers.allow).toBe(ALLOW)
        expect(answer.headers['content-type']).toBe('application/json;charset=UTF-8')
        expect(JSON.parse(answer.body)).toEqual({})
      }
    })
  }

  it('answers the method before the token: TRACE without credentials is 405, not 401', async () => {
    const answer = await send(v2, 'TRACE', 'X-Evotor-User-Id: 01-000000000000002')
    expect(answer.status).toBe(405)
    expect(answer.headers.allow).toBe(ALLOW)
  })

  it('lets the served methods through to authentication and the app', async () => {
    expect((await send(v2, 'GET')).status).toBe(200)
    expect((await send(v2, 'OPTIONS', '')).status).toBe(401)
    // The app's own 404 for a path it does not serve, not our 405.
    expect((await send(v2, 'DELETE', evotorHeaders, '/api/nothing-here')).status).toBe(404)
  })
})
