import { describe, expect, it, vi } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../src/core/evotor-error.js'
import type { WebhookRequest } from '../../src/core/http-types.js'
import { createMemoryRevocationStore, type RevocationStore } from '../../src/core/revocations.js'
import { createEvotorWebhooks, type EvotorWebhookHandlers } from '../../src/core/webhooks.js'
import { ROUTE_NAMES } from '../../src/protocol/routes.js'

const APP_TOKEN = 'app-token-3b1f0c5e-2f7a-4d55-9a57-6f0a1c2b3d4e'
const SECRET = 'a-very-long-user-token-secret-for-tests-0123456789'
const USER_ID = '01-000000000000001'
const app = { authorization: `Bearer ${APP_TOKEN}` }

function captured() {
  const warn = vi.fn<(message: string, fields?: Record<string, unknown>) => void>()
  const error = vi.fn<(message: string, fields?: Record<string, unknown>) => void>()
  return { warn, error }
}

function post(path: string, headers: Record<string, string>, body: unknown, method = 'POST'): WebhookRequest {
  return {
    method,
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

const STORES = [{ uuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB', name: 'Магазин' }]
const uninstall = (timestamp: number, id = 'b3f6c1de-0a6e-4c55-9f3a-7d2e1c0b9a88') => ({
  id,
  timestamp,
  version: 2,
  type: 'ApplicationUninstalled',
  data: { productId: 'c0d01x35-5193-4cc2-9bfb-be20e0679498', userId: USER_ID },
})
const uninstallRequest = (timestamp: number, id?: string) =>
  post('/api/v2/installation/event', app, uninstall(timestamp, id))

describe('createEvotorWebhooks: routes without a handler', () => {
  it('logs ONE warning at construction listing every route without a handler and its answer', () => {
    const logger = captured()
    createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: createUserTokens({ secret: SECRET }),
      handlers: { userCreate: async ({ body }) => ({ userId: body.userId, token: 't' }), stores() {} },
      logger,
    })
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.error).not.toHaveBeenCalled()
    const [message, fields] = logger.warn.mock.calls[0]!
    const routes = fields?.unhandledRoutes as Record<string, string>
    const unhandled = ROUTE_NAMES.filter((name) => name !== 'userCreate' && name !== 'stores')
    expect(Object.keys(routes)).toEqual(unhandled)
    expect(routes.userVerify).toMatch(/^501 /)
    expect(routes.commodities).toMatch(/^404 .*nothing found/)
    expect(routes.userToken).toMatch(/^200 /)
    expect(routes.receipts).toMatch(/^200 /)
    expect(routes.installationEvent).toMatch(/^200 .*ApplicationUninstalled still revokes/)
    expect(message).toContain(`${unhandled.length} webhook routes without a handler`)
    for (const name of unhandled) expect(message).toContain(`${name}: ${routes[name]}`)
  })

  it('says nothing when every route has a handler, and names the 404s under not-found', () => {
    const logger = captured()
    const all = Object.fromEntries(
      ROUTE_NAMES.map((name) => [name, () => undefined]),
    ) as EvotorWebhookHandlers
    createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: createUserTokens({ secret: SECRET }),
      handlers: all,
      logger,
    })
    expect(logger.warn).not.toHaveBeenCalled()
    createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: {},
      unhandledNotifications: 'not-found',
      logger,
    })
    const routes = logger.warn.mock.calls[0]?.[1]?.unhandledRoutes as Record<string, string>
    expect(routes.stores).toMatch(/^404 .*re-sends/)
    expect(routes.userToken).toMatch(/^404 /)
  })

  it('acknowledges notifications and user/token with 200, warning once per route at the first delivery', async () => {
    const logger = captured()
    const tokens = createUserTokens({ secret: SECRET })
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      handlers: {},
      logger,
    })
    logger.warn.mockClear()
    const user = { authorization: `Bearer ${await tokens.issue(USER_ID)}` }
    const token = { userId: USER_ID, token: 'f46b89a5-8e80-4591-b0aa-94551790444b' }
    for (let i = 0; i < 3; i++) {
      const stores = await webhooks.handle(post('/api/v1/inventories/stores', user, STORES, 'PUT'))
      expect(stores).toMatchObject({ status: 200, body: '' })
      const userToken = await webhooks.handle(post('/api/v1/user/token', app, token))
      expect(userToken).toMatchObject({ status: 200, body: '' })
    }
    expect(logger.warn.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/no handler for stores; answered 200/),
      expect.stringMatching(/no handler for userToken; answered 200/),
    ])
    expect(logger.warn.mock.calls.map(([, fields]) => fields)).toEqual([
      { route: 'stores' },
      { route: 'userToken' },
    ])
    // Authentication still comes first: a bad token is not acknowledged.
    const bad = await webhooks.handle(
      post('/api/v1/inventories/stores', { authorization: 'Bearer x' }, STORES, 'PUT'),
    )
    expect(bad.status).toBe(401)
  })

  it("answers 404 to notifications under unhandledNotifications: 'not-found' (still reported once)", async () => {
    const logger = captured()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: {},
      unhandledNotifications: 'not-found',
      logger,
    })
    logger.warn.mockClear()
    const token = { userId: USER_ID, token: 'f46b89a5-8e80-4591-b0aa-94551790444b' }
    expect(await webhooks.handle(post('/api/v1/user/token', app, token))).toMatchObject({
      status: 404,
      body: '{}',
    })
    expect(await webhooks.handle(post('/api/v1/user/token', app, token))).toMatchObject({ status: 404 })
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/userToken; answered 404/)
  })

  it('answers user/create and user/verify without a handler with 501 {} and an error line each time', async () => {
    const logger = captured()
    const webhooks = createEvotorWebhooks({ appCredential: { bearer: [APP_TOKEN] }, handlers: {}, logger })
    for (const path of ['/api/v1/user/create', '/api/v1/user/verify', '/api/v1/user/create']) {
      const res = await webhooks.handle(post(path, app, { userId: USER_ID }))
      expect(res).toMatchObject({ status: 501, body: '{}' })
    }
    expect(logger.error).toHaveBeenCalledTimes(3)
    expect(logger.error.mock.calls[0]?.[0]).toBe(
      'evotor-partner: no handler for userCreate (POST /api/v1/user/create); answered 501: add handlers.userCreate, it must return a token',
    )
    expect(logger.error.mock.calls[1]?.[0]).toMatch(/userVerify .*501/)
    // Still authenticated first: the 501 is not an oracle for strangers.
    const stranger = await webhooks.handle(post('/api/v1/user/create', {}, { userId: USER_ID }))
    expect(stranger.status).toBe(401)
  })

  it('answers commodities without a handler with 404 {} (nothing found), reported once', async () => {
    const logger = captured()
    const webhooks = createEvotorWebhooks({ appCredential: { bearer: [APP_TOKEN] }, handlers: {}, logger })
    logger.warn.mockClear()
    const req: WebhookRequest = {
      method: 'GET',
      path: '/api/v1/commodities',
      query: { scanCode: '4600000000000' },
      headers: app,
    }
    expect(await webhooks.handle(req)).toMatchObject({ status: 404, body: '{}' })
    expect(await webhooks.handle(req)).toMatchObject({ status: 404 })
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/commodities; answered 404 \{\} \(nothing found\)/)
  })

  it('refuses a bad logger or revokeOnUninstall at construction, naming the option', () => {
    const base = { appCredential: { bearer: [APP_TOKEN] }, handlers: {} }
    expect(() => createEvotorWebhooks({ ...base, logger: { warn() {} } as never })).toThrow(
      /createEvotorWebhooks: logger must have warn\(\) and error\(\)/,
    )
    expect(() => createEvotorWebhooks({ ...base, revokeOnUninstall: 'no' as never })).toThrow(
      /revokeOnUninstall must be a boolean/,
    )
  })
})

describe('createEvotorWebhooks: ApplicationUninstalled revokes the user tokens', () => {
  const silent = { warn() {}, error() {} }

  async function setup(
    options: {
      handlers?: EvotorWebhookHandlers
      revokeOnUninstall?: boolean
      now?: () => number
      revocations?: RevocationStore
    } = {},
  ) {
    const tokens = createUserTokens({
      secret: SECRET,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.revocations === undefined ? {} : { revocations: options.revocations }),
    })
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      handlers: options.handlers ?? {},
      logger: silent,
      ...(options.revokeOnUninstall === undefined ? {} : { revokeOnUninstall: options.revokeOnUninstall }),
    })
    return { tokens, webhooks }
  }

  it('with no handler: the cached token is refused at once, a token issued later is not', async () => {
    const { tokens, webhooks } = await setup()
    const token = await tokens.issue(USER_ID)
    await tokens.verify(token) // now cached
    expect(tokens.peek(token)?.userId).toBe(USER_ID)
    expect((await webhooks.handle(uninstallRequest(Date.now()))).status).toBe(200)
    expect(tokens.peek(token)).toBeUndefined()
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 1002, status: 401 })
    const again = await tokens.issue(USER_ID) // reinstall
    await expect(tokens.verify(again)).resolves.toMatchObject({ userId: USER_ID })
    const other = await tokens.issue('01-000000000000002')
    await expect(tokens.verify(other)).resolves.toMatchObject({ userId: '01-000000000000002' })
  })

  it('also with a handler, which still runs; and not with revokeOnUninstall: false', async () => {
    const seen: string[] = []
    const handlers: EvotorWebhookHandlers = { installationEvent: ({ body }) => void seen.push(body.type) }
    const on = await setup({ handlers })
    const token = await on.tokens.issue(USER_ID)
    expect((await on.webhooks.handle(uninstallRequest(Date.now()))).status).toBe(200)
    expect(seen).toEqual(['ApplicationUninstalled'])
    await expect(on.tokens.verify(token)).rejects.toMatchObject({ code: 1002 })

    const off = await setup({ handlers, revokeOnUninstall: false })
    const kept = await off.tokens.issue(USER_ID)
    expect((await off.webhooks.handle(uninstallRequest(Date.now()))).status).toBe(200)
    await expect(off.tokens.verify(kept)).resolves.toMatchObject({ userId: USER_ID })
  })

  it('an ApplicationInstalled event revokes nothing', async () => {
    const { tokens, webhooks } = await setup()
    const token = await tokens.issue(USER_ID)
    const installed = { ...uninstall(Date.now()), type: 'ApplicationInstalled' }
    expect((await webhooks.handle(post('/api/v2/installation/event', app, installed))).status).toBe(200)
    await expect(tokens.verify(token)).resolves.toMatchObject({ userId: USER_ID })
  })

  it("marks at the event's timestamp: a late re-delivery keeps the reinstall's token", async () => {
    let now = Date.now() - 600_000 // the tokens' clock: ten minutes ago, then onwards
    const { tokens, webhooks } = await setup({ now: () => now })
    const first = await tokens.issue(USER_ID)
    now += 1000
    const uninstalledAt = now
    now += 60_000 // delivered a minute late, after the reinstall below
    const reinstalled = await tokens.issue(USER_ID)
    now += 1000
    // The event's clock is the cloud's; the delivery runs on the real clock, which is later still.
    expect((await webhooks.handle(uninstallRequest(uninstalledAt))).status).toBe(200)
    await expect(tokens.verify(first)).rejects.toMatchObject({ code: 1002 })
    await expect(tokens.verify(reinstalled)).resolves.toMatchObject({ userId: USER_ID })
  })

  it("never marks later than the server's clock, and the same millisecond counts as revoked", async () => {
    const revocations = createMemoryRevocationStore()
    const now = Date.now()
    const { tokens, webhooks } = await setup({ now: () => now, revocations })
    const sameMs = await tokens.issue(USER_ID)
    // A cloud clock an hour ahead: the mark is capped at "now", not an hour of future tokens.
    const res = await webhooks.handle(uninstallRequest(Date.now() + 3_600_000))
    expect(res.status).toBe(200)
    const mark = (await revocations.revokedBefore(USER_ID))?.getTime() ?? 0
    expect(mark).toBeGreaterThanOrEqual(now)
    expect(mark).toBeLessThan(now + 3_600_000)
    await expect(tokens.verify(sameMs)).rejects.toMatchObject({ code: 1002 })
  })

  it('a token issued in the same millisecond as the uninstall, after it, is accepted', async () => {
    const revocations = createMemoryRevocationStore()
    const now = 1_800_000_000_000
    const tokens = createUserTokens({ secret: SECRET, now: () => now, revocations })
    const before = await tokens.issue(USER_ID)
    await revocations.revokeUser(USER_ID, new Date(now))
    const after = await tokens.issue(USER_ID) // same clock reading as the mark
    await expect(tokens.verify(before)).rejects.toMatchObject({ code: 1002 })
    await expect(tokens.verify(after)).resolves.toMatchObject({
      userId: USER_ID,
      issuedAt: new Date(now + 1),
    })
  })

  it('answers 503 when the store cannot be written, so the cloud re-sends the uninstall', async () => {
    const broken: RevocationStore = {
      revokeUser: () =>
        Promise.reject(new EvotorError(undefined, { status: 503, headers: { 'retry-after': '60' } })),
      revokedBefore: async () => undefined,
    }
    const ran = vi.fn()
    const { webhooks } = await setup({ revocations: broken, handlers: { installationEvent: ran } })
    const res = await webhooks.handle(uninstallRequest(Date.now()))
    expect(res.status).toBe(503)
    expect(res.headers['retry-after']).toBe('60')
    expect(ran).not.toHaveBeenCalled()
  })

  it('the memory store keeps the latest mark and tells attached verifiers', async () => {
    const dropped: string[] = []
    const store = createMemoryRevocationStore({ verifiers: [{ revokeUser: (id) => void dropped.push(id) }] })
    expect(await store.revokedBefore(USER_ID)).toBeUndefined()
    await store.revokeUser(USER_ID, new Date(2000))
    await store.revokeUser(USER_ID, new Date(1000)) // a late, older uninstall never lowers it
    expect(await store.revokedBefore(USER_ID)).toEqual(new Date(2000))
    expect(dropped).toEqual([USER_ID, USER_ID])
    await expect(store.revokeUser('', new Date())).rejects.toThrow(TypeError)
    expect(() => createUserTokens({ secret: SECRET, revocations: {} as never })).toThrow(
      /createUserTokens: `revocations` must be a RevocationStore/,
    )
  })
})
