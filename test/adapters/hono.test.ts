import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { createEvotorWebhooksHandler } from '../../src/adapters/fetch.js'
import {
  type EvotorEnv,
  EvotorError,
  evotorErrorHandler,
  evotorProxy,
  evotorWebhooks,
} from '../../src/adapters/hono.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import type { EvotorProxyContext } from '../../src/core/proxy.js'
import { createRecordingWebhooks } from './helpers/endpoints.js'
import { listen, type Started } from './helpers/harness.js'

const USER = '01-000000000000001'
const tokens = createUserTokens({ secret: 'hono-adapter-test-secret-32-bytes-long!' })
const SECRET_DETAIL = 'hono internal detail'

describe('evotor-partner/hono over @hono/node-server', () => {
  let server: Started
  let headers: Record<string, string>
  const webhooks = createRecordingWebhooks(tokens)

  beforeAll(async () => {
    headers = {
      authorization: `Bearer ${await tokens.issue(USER)}`,
      'x-evotor-user-id': USER,
      'x-evotor-store-uuid': 'store-1',
      'x-evotor-device-uuid': 'device-1',
    }
    const app = new Hono<EvotorEnv>()
    app.use(evotorWebhooks(webhooks))
    app.get('/health', (c) => c.text('ok'))
    app.get('/plain-evotor-error', () => {
      throw EvotorError.deviceNotLicensed('device-1')
    })
    app.get('/plain-error', () => {
      throw new Error(SECRET_DETAIL)
    })
    app.get('/http-exception', () => {
      throw new HTTPException(418, { message: 'teapot' })
    })
    app.use('/terminal/*', evotorProxy({ userTokens: tokens }))
    app.get('/terminal/me', (c) => {
      expectTypeOf(c.var.evotor).toEqualTypeOf<EvotorProxyContext>()
      return c.json({ userId: c.var.evotor.userId, device: c.var.evotor.deviceUuid })
    })
    app.get('/terminal/async-error', async (c) => {
      await Promise.resolve()
      throw EvotorError.paymentRequired(c.var.evotor.userId)
    })
    app.onError(evotorErrorHandler)
    server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  })
  afterAll(() => server.close())

  it('the webhooks middleware answers webhook paths and passes every other path to next()', async () => {
    const bad = await fetch(`${server.url}/api/v1/user/create`, { method: 'POST', body: '{}' })
    expect(bad.status).toBe(401)
    expect(await (await fetch(`${server.url}/health`)).text()).toBe('ok')
  })

  it('the proxy sets a typed c.var.evotor; a thrown EvotorError answers its Evotor body', async () => {
    const me = await fetch(`${server.url}/terminal/me`, { headers })
    expect(await me.json()).toEqual({ userId: USER, device: 'device-1' })
    const failed = await fetch(`${server.url}/terminal/async-error`, { headers })
    expect(failed.status).toBe(402)
    expect(await failed.json()).toEqual(EvotorError.paymentRequired(USER).toBody())
    const anonymous = await fetch(`${server.url}/terminal/me`)
    expect(anonymous.status).toBe(401)
  })

  it('evotorErrorHandler: EvotorError -> its body; HTTPException -> its response; others -> 500 {} without internals', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const evotor = await fetch(`${server.url}/plain-evotor-error`)
      expect(evotor.status).toBe(405)
      expect(await evotor.json()).toEqual(EvotorError.deviceNotLicensed('device-1').toBody())
      const teapot = await fetch(`${server.url}/http-exception`)
      expect(teapot.status).toBe(418)
      expect(await teapot.text()).toBe('teapot')
      const plain = await fetch(`${server.url}/plain-error`)
      expect(plain.status).toBe(500)
      const text = await plain.text()
      expect(text).toBe('{}')
      expect(text).not.toContain(SECRET_DETAIL)
      expect(logged).toHaveBeenCalledTimes(1)
    } finally {
      logged.mockRestore()
    }
  })
})

describe('createEvotorWebhooksHandler({ fallthrough: true })', () => {
  const webhooks = createRecordingWebhooks(tokens)

  it('resolves to undefined for paths it does not serve, and serves its own', async () => {
    const handler = createEvotorWebhooksHandler(webhooks, { fallthrough: true })
    expect(await handler(new Request('http://localhost/app/own'))).toBeUndefined()
    const own = await handler(
      new Request('http://localhost/api/v1/user/create', { method: 'POST', body: '{}' }),
    )
    expect(own?.status).toBe(401)
  })

  it('without it, other paths answer 404 {}', async () => {
    const handler = createEvotorWebhooksHandler(webhooks)
    const response = await handler(new Request('http://localhost/app/own'))
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({})
  })

  it('refuses a fallthrough that is not a boolean', () => {
    expect(() => createEvotorWebhooksHandler(webhooks, { fallthrough: 'yes' as never })).toThrow(
      new TypeError('createEvotorWebhooksHandler: fallthrough must be a boolean'),
    )
  })
})
