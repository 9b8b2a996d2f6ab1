import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../src/core/evotor-error.js'
import type { WebhookRequest } from '../../src/core/http-types.js'
import { createEvotorWebhooks, type EvotorWebhookHandlers } from '../../src/core/webhooks.js'
import type { RouteName } from '../../src/protocol/routes.js'

const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8'))

const APP_TOKEN = 'app-token-3b1f0c5e-2f7a-4d55-9a57-6f0a1c2b3d4e'
const BASIC = { username: 'evotor', password: 'пароль-secret-0123' }
const USER_ID = '01-000000000000001'
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
const tokens = createUserTokens({ secret: 'a-very-long-user-token-secret-for-tests-0123456789' })
const userToken = await tokens.issue(USER_ID)
const otherSecretToken = await createUserTokens({
  secret: 'another-user-token-secret-0123456789-abcdef',
}).issue(USER_ID)

const basicHeader = `Basic ${Buffer.from(`${BASIC.username}:${BASIC.password}`).toString('base64')}`
const app = { authorization: `Bearer ${APP_TOKEN}` }
const user = { authorization: `Bearer ${userToken}` }

interface RouteCase {
  name: RouteName
  method: string
  path: string
  credential: 'app' | 'user' | 'app-or-user'
  valid: unknown
  missing: { body: unknown; subject: string }
  wrong: { body: unknown; subject: string }
}

// The fixture carries sequenceNumber 4 (the spec's only example); a fresh subscription starts at 1.
const subscriptionCreated = {
  ...(fixture('assembled/partner_v1_subscription_event.POST.request.SubscriptionCreated.json') as object),
  sequenceNumber: 1,
}
const ROUTES: RouteCase[] = [
  {
    name: 'userCreate',
    method: 'POST',
    path: '/api/v1/user/create',
    credential: 'app',
    valid: fixture('assembled/partner_v1_user_create.POST.request.json'),
    missing: { body: {}, subject: 'userId' },
    wrong: { body: { userId: 5 }, subject: 'userId' },
  },
  {
    name: 'userVerify',
    method: 'POST',
    path: '/api/v1/user/verify',
    credential: 'app',
    valid: fixture('assembled/partner_v1_user_verify.POST.request.json'),
    missing: { body: { username: 'x' }, subject: 'userId' },
    wrong: { body: { userId: 1 }, subject: 'userId' },
  },
  {
    name: 'userToken',
    method: 'POST',
    path: '/api/v1/user/token',
    credential: 'app',
    valid: fixture('assembled/partner_v1_user_token.POST.request.json'),
    missing: { body: { userId: USER_ID }, subject: 'token' },
    wrong: { body: { userId: [USER_ID], token: 'x' }, subject: 'userId' },
  },
  {
    name: 'commodities',
    method: 'GET',
    path: '/api/v1/commodities',
    credential: 'app-or-user',
    valid: { scanCode: '4601234567890' },
    missing: { body: { alcCode: '0123456789012345678' }, subject: 'scanCode' },
    wrong: { body: { scanCode: '' }, subject: 'scanCode' },
  },
  {
    name: 'subscriptionEvent',
    method: 'POST',
    path: '/api/v1/subscription/event',
    credential: 'app-or-user',
    valid: subscriptionCreated,
    missing: {
      body: { ...(subscriptionCreated as object), subscriptionId: undefined },
      subject: 'subscriptionId',
    },
    wrong: {
      body: { ...(subscriptionCreated as object), sequenceNumber: 'four' },
      subject: 'sequenceNumber',
    },
  },
  {
    name: 'installationEvent',
    method: 'POST',
    path: '/api/v2/installation/event',
    credential: 'app-or-user',
    valid: fixture('assembled/partner_v2_installation_event.POST.request.ApplicationInstalled.json'),
    missing: { body: { id: 'e1', timestamp: 1, version: 2, type: 'ApplicationInstalled' }, subject: 'data' },
    wrong: {
      body: {
        id: 'e1',
        timestamp: 1,
        version: 2,
        type: 'ApplicationInstalled',
        data: { productId: 'p', userId: 5 },
      },
      subject: 'data.userId',
    },
  },
  {
    name: 'stores',
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    credential: 'user',
    valid: fixture('assembled/partner_v1_inventories_stores.PUT.request.json'),
    missing: { body: [{ name: 'Магазин' }], subject: '0.uuid' },
    wrong: { body: [{ uuid: 5, name: 'Магазин' }], subject: '0.uuid' },
  },
  {
    name: 'devices',
    method: 'PUT',
    path: '/api/v1/inventories/devices',
    credential: 'user',
    valid: fixture('assembled/partner_v1_inventories_devices.PUT.request.json'),
    missing: { body: [{ name: 'Касса' }], subject: '0.uuid' },
    wrong: { body: [{ uuid: 5 }], subject: '0.uuid' },
  },
  {
    name: 'employees',
    method: 'PUT',
    path: '/api/v1/inventories/employees',
    credential: 'user',
    valid: fixture('assembled/partner_v1_inventories_employees.PUT.request.json'),
    missing: { body: [{ uuid: 'e', name: 'Иван', stores: [] }], subject: '0.role' },
    wrong: { body: [{ uuid: 'e', name: 'Иван', stores: [], role: 5 }], subject: '0.role' },
  },
  {
    name: 'products',
    method: 'POST',
    path: `/api/v1/inventories/stores/${STORE}/products`,
    credential: 'user',
    valid: fixture('spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json'),
    missing: { body: [{ uuid: 'p', name: 'Чай', type: 'NORMAL' }], subject: '0.group' },
    wrong: { body: [{ uuid: 'p', name: 'Чай', group: 'yes', type: 'NORMAL' }], subject: '0.group' },
  },
  {
    name: 'documents',
    method: 'PUT',
    path: `/api/v1/inventories/stores/${STORE}/documents`,
    credential: 'user',
    valid: fixture('assembled/partner_v1_inventories_stores_storeUuid_documents.PUT.request.json'),
    missing: { body: [{ uuid: 'd' }], subject: '0.type' },
    wrong: { body: [{ uuid: 5, type: 'SELL' }], subject: '0.uuid' },
  },
  {
    name: 'receipts',
    method: 'POST',
    path: '/api/v2/receipts',
    credential: 'user',
    valid: fixture('assembled/partner_v2_receipts.POST.request.json'),
    missing: { body: { id: 'r1' }, subject: 'data' },
    wrong: { body: { id: 5, data: {} }, subject: 'id' },
  },
]

const invalid: Array<{ reason: string; subjects: string[] }> = []
const isEvent = (c: RouteCase) => c.name === 'subscriptionEvent' || c.name === 'installationEvent'

function makeHandlers(
  calls: Array<{ route: string; userId: string | undefined; storeUuid: string | undefined }>,
) {
  const record =
    (route: string) => async (ctx: { userId: string | undefined; storeUuid: string | undefined }) => {
      calls.push({ route, userId: ctx.userId, storeUuid: ctx.storeUuid })
    }
  const handlers: EvotorWebhookHandlers = {
    userCreate: async ({ body }) => {
      calls.push({ route: 'userCreate', userId: body.userId, storeUuid: undefined })
      return { userId: body.userId, token: await tokens.issue(body.userId) }
    },
    userVerify: async ({ body }) => {
      calls.push({ route: 'userVerify', userId: body.userId, storeUuid: undefined })
      return { userId: body.userId, hasBilling: false, token: await tokens.issue(body.userId) }
    },
    userToken: record('userToken'),
    commodities: async ({ body }) => {
      calls.push({ route: 'commodities', userId: undefined, storeUuid: undefined })
      return { name: `Товар ${body.scanCode}`, measure: 'шт', scanCodes: [body.scanCode], alcCodes: null }
    },
    subscriptionEvent: record('subscriptionEvent'),
    installationEvent: record('installationEvent'),
    stores: record('stores'),
    devices: record('devices'),
    employees: record('employees'),
    products: record('products'),
    documents: record('documents'),
    receipts: record('receipts'),
    unknownEvent: async (ctx) => {
      calls.push({ route: 'unknownEvent', userId: ctx.userId, storeUuid: undefined })
      invalid.push({ reason: ctx.reason, subjects: ctx.errors.map((e) => e.subject ?? '') })
    },
  }
  return handlers
}

function setup(extra: Partial<Parameters<typeof createEvotorWebhooks>[0]> = {}) {
  const calls: Array<{ route: string; userId: string | undefined; storeUuid: string | undefined }> = []
  const webhooks = createEvotorWebhooks({
    appCredential: { bearer: [APP_TOKEN], basic: [BASIC] },
    userTokens: tokens,
    handlers: makeHandlers(calls),
    idempotency: false,
    ...extra,
  })
  return { webhooks, calls }
}

function request(c: RouteCase, headers: Record<string, string>, body: unknown): WebhookRequest {
  if (c.method === 'GET') {
    return { method: 'GET', path: c.path, query: body as Record<string, string>, headers }
  }
  return {
    method: c.method,
    path: c.path,
    headers: { 'content-type': 'application/json;charset=UTF-8', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }
}

const goodCredential = (c: RouteCase) => (c.credential === 'user' ? user : app)
const errorBody = (code: number) => ({ errors: [expect.objectContaining({ code })] })

describe.each(ROUTES)('$name ($method $path) through handle()', (c) => {
  it('answers exactly 200 to a valid call and passes the typed body to the handler', async () => {
    const { webhooks, calls } = setup()
    const res = await webhooks.handle(request(c, goodCredential(c), c.valid))
    expect(res.status).toBe(200)
    expect(calls.map((call) => call.route)).toEqual([c.name])
    if (c.name === 'products' || c.name === 'documents') expect(calls[0]?.storeUuid).toBe(STORE)
    if (c.credential === 'user') expect(calls[0]?.userId).toBe(USER_ID)
    if (c.name === 'userCreate' || c.name === 'userVerify' || c.name === 'commodities') {
      expect(res.headers['content-type']).toBe('application/json;charset=UTF-8')
      const body = JSON.parse(res.body)
      if (c.name !== 'commodities') expect(body.token).toMatch(/^[A-Za-z0-9_-]{1,128}$/)
    } else {
      expect(res.body).toBe('')
    }
  })

  it('answers 400/2002 missing with the field path for a missing field (events: 200 + unknownEvent)', async () => {
    const { webhooks, calls } = setup()
    const res = await webhooks.handle(request(c, goodCredential(c), c.missing.body))
    if (isEvent(c)) {
      // Protocol §5.3: the event routes answer 200 only; a 400 would be retried for three days.
      expect(res.status).toBe(200)
      expect(calls.map((call) => call.route)).toEqual(['unknownEvent'])
      expect(invalid.at(-1)).toEqual({
        reason: 'invalid',
        subjects: expect.arrayContaining([c.missing.subject]),
      })
      return
    }
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body).errors).toContainEqual({
      code: 2002,
      reason: 'missing',
      subject: c.missing.subject,
    })
    expect(calls).toEqual([])
  })

  it('answers 400/2003 incorrect for a wrong type (events: 200 + unknownEvent)', async () => {
    const { webhooks, calls } = setup()
    const res = await webhooks.handle(request(c, goodCredential(c), c.wrong.body))
    if (isEvent(c)) {
      expect(res.status).toBe(200)
      expect(calls.map((call) => call.route)).toEqual(['unknownEvent'])
      expect(invalid.at(-1)).toEqual({
        reason: 'invalid',
        subjects: expect.arrayContaining([c.wrong.subject]),
      })
      return
    }
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body).errors).toContainEqual(
      expect.objectContaining({ code: 2003, reason: 'incorrect', subject: c.wrong.subject }),
    )
    expect(calls).toEqual([])
  })

  it('answers 401 without a credential', async () => {
    const { webhooks, calls } = setup()
    const res = await webhooks.handle(request(c, {}, c.valid))
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body)).toEqual(errorBody(c.credential === 'user' ? 1002 : 1001))
    expect(calls).toEqual([])
  })

  it('answers 401 for a wrong credential of the right kind', async () => {
    const { webhooks } = setup()
    const wrong =
      c.credential === 'user'
        ? { authorization: `Bearer ${otherSecretToken}` }
        : { authorization: `Basic ${Buffer.from(`${BASIC.username}:wrong`).toString('base64')}` }
    const res = await webhooks.handle(request(c, wrong, c.valid))
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body)).toEqual(errorBody(c.credential === 'user' ? 1002 : 1001))
    expect(res.body).not.toContain('wrong')
  })

  it('handles the kind of credential the route accepts, and refuses the other kind', async () => {
    const { webhooks, calls } = setup()
    if (c.credential === 'app-or-user') {
      // Either kind is accepted (protocol §4.2, §11 A4, A5); Basic works as an app credential too.
      expect((await webhooks.handle(request(c, user, c.valid))).status).toBe(200)
      expect((await webhooks.handle(request(c, { authorization: basicHeader }, c.valid))).status).toBe(200)
      expect(calls.length).toBeGreaterThanOrEqual(1)
      return
    }
    const otherKind = c.credential === 'user' ? app : user
    const res = await webhooks.handle(request(c, otherKind, c.valid))
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body)).toEqual(errorBody(c.credential === 'user' ? 1002 : 1001))
    expect(calls).toEqual([])
  })
})

describe.each(ROUTES.filter((r) => r.method !== 'GET'))('$name with a body that is not JSON', (c) => {
  it('answers 400/2001 for bad JSON', async () => {
    const { webhooks, calls } = setup()
    const res = await webhooks.handle(request(c, goodCredential(c), '{"userId": "01-'))
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toEqual({ errors: [{ code: 2001 }] })
    expect(calls).toEqual([])
  })
})

describe('createEvotorWebhooks: routing', () => {
  it('answers 404 {} for an unknown path and 405 with Allow for a wrong method', async () => {
    const { webhooks } = setup()
    const notFound = await webhooks.handle({ method: 'POST', path: '/api/v1/nope', headers: app, body: '{}' })
    expect(notFound.status).toBe(404)
    expect(JSON.parse(notFound.body)).toEqual({})
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'DELETE', 'BREW']) {
      const res = await webhooks.handle({ method, path: '/api/v1/user/create', headers: app })
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('POST')
    }
    expect(webhooks.matches('/api/v1/user/create')).toBe(true)
    expect(webhooks.matches(`/api/v1/inventories/stores/${STORE}/products`)).toBe(true)
    expect(webhooks.matches('/health')).toBe(false)
  })

  it('serves paths under a base path, overridden paths and opt-in legacy aliases', async () => {
    const { webhooks } = setup({
      basePath: '/evotor',
      paths: { userVerify: '/api/v1/verify-login' },
      legacyPaths: ['subscriptionEvent'],
    })
    expect(webhooks.matches('/evotor/api/v1/user/create')).toBe(true)
    expect(webhooks.matches('/api/v1/user/create')).toBe(false)
    expect(webhooks.matches('/api/v1/verify-login')).toBe(true)
    expect(webhooks.matches('/evotor/api/v1/user/event')).toBe(true)
    expect(webhooks.matches('/evotor/api/v1/receipt')).toBe(false)
    const res = await webhooks.handle({
      method: 'POST',
      path: '/evotor/api/v1/user/event',
      headers: app,
      body: JSON.stringify(subscriptionCreated),
    })
    expect(res.status).toBe(200)
  })

  it('rejects bad options with a TypeError naming the option', () => {
    const base = { appCredential: { bearer: [APP_TOKEN] }, handlers: {} }
    expect(() => createEvotorWebhooks({ ...base, handlers: { nope: async () => {} } as never })).toThrow(
      /handlers\.nope/,
    )
    expect(() => createEvotorWebhooks({ ...base, basePath: 'evotor' })).toThrow(/basePath/)
    expect(() => createEvotorWebhooks({ ...base, deadlineMs: -1 })).toThrow(/deadlineMs/)
    expect(() => createEvotorWebhooks({ ...base, handlers: { stores: async () => {} } })).toThrow(
      /userTokens/,
    )
    expect(() => createEvotorWebhooks({ ...base, appCredential: undefined as never })).toThrow(
      /appCredential/,
    )
  })

  it('acknowledges a notification without a handler by default, or answers 404 when told to', async () => {
    const logger = { warn: vi.fn(), error: vi.fn() }
    const base = { appCredential: { bearer: [APP_TOKEN] }, userTokens: tokens, handlers: {}, logger }
    const stores = ROUTES.find((r) => r.name === 'stores') as RouteCase
    expect((await createEvotorWebhooks(base).handle(request(stores, user, stores.valid))).status).toBe(200)
    const notFound = createEvotorWebhooks({ ...base, unhandledNotifications: 'not-found' })
    expect((await notFound.handle(request(stores, user, stores.valid))).status).toBe(404)
  })
})

describe('createEvotorWebhooks: answers', () => {
  const stores = ROUTES.find((r) => r.name === 'stores') as RouteCase
  const create = ROUTES.find((r) => r.name === 'userCreate') as RouteCase

  it('sends EvotorErrors thrown by handlers as themselves', async () => {
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      handlers: {
        stores: async ({ userId }) => {
          throw EvotorError.paymentRequired(userId ?? '')
        },
      },
    })
    const res = await webhooks.handle(request(stores, user, stores.valid))
    expect(res.status).toBe(402)
    expect(JSON.parse(res.body)).toEqual({
      errors: [{ code: 1004, reason: 'payment required', subject: 'userUuid', value: USER_ID }],
    })
  })

  it('answers 500 without internals for other errors, and logs them', async () => {
    const logger = { warn: vi.fn(), error: vi.fn() }
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      logger,
      handlers: {
        stores: async () => {
          throw new Error('connection to postgres://admin:hunter2@db failed')
        },
      },
    })
    const res = await webhooks.handle(request(stores, user, stores.valid))
    expect(res.status).toBe(500)
    expect(res.body).not.toContain('hunter2')
    expect(JSON.parse(res.body)).toEqual({})
    expect(logger.error).toHaveBeenCalledOnce()
    expect(JSON.stringify(logger.error.mock.calls)).not.toContain(userToken)
  })

  it('answers 500 when a handler returns a response that breaks the protocol (token too long)', async () => {
    const logger = { warn: vi.fn(), error: vi.fn() }
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      logger,
      handlers: { userCreate: async ({ body }) => ({ userId: body.userId, token: 'x'.repeat(200) }) },
    })
    const res = await webhooks.handle(request(create, app, create.valid))
    expect(res.status).toBe(500)
    expect(logger.error).toHaveBeenCalledOnce()
  })

  it('reports a handler that runs past the deadline through the logger', async () => {
    const logger = { warn: vi.fn(), error: vi.fn() }
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      logger,
      deadlineMs: 20,
      handlers: { stores: () => new Promise<void>((resolve) => setTimeout(resolve, 80)) },
    })
    const res = await webhooks.handle(request(stores, user, stores.valid))
    expect(res.status).toBe(200)
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('deadline'),
      expect.objectContaining({ route: 'stores' }),
    )
  })

  it('drops prototype-polluting keys from bodies', async () => {
    let seen: unknown
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: {
        userCreate: async ({ body }) => {
          seen = body
          return { userId: body.userId, token: 'abc' }
        },
      },
    })
    const res = await webhooks.handle(
      request(
        create,
        app,
        `{"userId":"${USER_ID}","__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}`,
      ),
    )
    expect(res.status).toBe(200)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(seen as object)).toEqual(['userId'])
  })

  it('keeps unknown fields Evotor may add at any time (protocol §5.2)', async () => {
    let seen: Record<string, unknown> = {}
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: {
        userCreate: async ({ body }) => {
          seen = body
          return { userId: body.userId, token: 'abc' }
        },
      },
    })
    await webhooks.handle(request(create, app, { userId: USER_ID, companyName: 'ООО Ромашка' }))
    expect(seen.companyName).toBe('ООО Ромашка')
  })

  it('accepts a body already parsed by a framework', async () => {
    const { webhooks, calls } = setup()
    const res = await webhooks.handle({
      method: 'PUT',
      path: stores.path,
      headers: user,
      body: stores.valid,
      parsedBody: true,
    })
    expect(res.status).toBe(200)
    expect(calls).toHaveLength(1)
  })
})

describe('createEvotorWebhooks: unknown event types', () => {
  it('acknowledges an unknown subscription event type with 200 and hands it to the catch-all', async () => {
    const unknownEvent = vi.fn()
    const subscriptionEvent = vi.fn()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: { subscriptionEvent, unknownEvent },
    })
    const res = await webhooks.handle({
      method: 'POST',
      path: '/api/v1/subscription/event',
      headers: app,
      body: JSON.stringify({
        ...(subscriptionCreated as object),
        type: 'SubscriptionCancelled',
        sequenceNumber: 1,
      }),
    })
    expect(res.status).toBe(200)
    expect(subscriptionEvent).not.toHaveBeenCalled()
    expect(unknownEvent).toHaveBeenCalledOnce()
    expect(unknownEvent.mock.calls[0]?.[0].route).toBe('subscriptionEvent')
  })

  it('acknowledges an unknown installation event type even without any handler', async () => {
    const webhooks = createEvotorWebhooks({ appCredential: { bearer: [APP_TOKEN] }, handlers: {} })
    const res = await webhooks.handle({
      method: 'POST',
      path: '/api/v2/installation/event',
      headers: app,
      body: JSON.stringify({ id: 'e9', timestamp: 1, version: 2, type: 'ApplicationSuspended', data: {} }),
    })
    expect(res.status).toBe(200)
  })
})

describe('createEvotorWebhooks: retries, duplicates and ordering', () => {
  const event = (sequenceNumber: number, subscriptionId = 'a99fbf70-6307-4acc-b61c-741ee9eef6c0') => ({
    method: 'POST',
    path: '/api/v1/subscription/event',
    headers: app,
    body: JSON.stringify({ ...(subscriptionCreated as object), subscriptionId, sequenceNumber }),
  })

  it('runs the handler once for 50 concurrent identical deliveries', async () => {
    let runs = 0
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: {
        subscriptionEvent: async () => {
          runs++
          await new Promise((resolve) => setTimeout(resolve, 20))
        },
      },
    })
    const answers = await Promise.all(Array.from({ length: 50 }, () => webhooks.handle(event(1))))
    expect(runs).toBe(1)
    // Every delivery is acknowledged or told to come back; none is lost.
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true)
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1)
    const again = await webhooks.handle(event(1))
    expect(again.status).toBe(200)
    expect(runs).toBe(1)
  })

  it('runs a handler that failed on the first delivery again on the retry', async () => {
    let runs = 0
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: {
        subscriptionEvent: async () => {
          runs++
          if (runs === 1) throw new Error('database is down')
        },
      },
    })
    expect((await webhooks.handle(event(1))).status).toBe(500)
    expect((await webhooks.handle(event(1))).status).toBe(200)
    expect((await webhooks.handle(event(1))).status).toBe(200)
    expect(runs).toBe(2)
  })

  it('de-duplicates notifications other than subscription events (a receipt re-delivered)', async () => {
    const receipts = ROUTES.find((r) => r.name === 'receipts') as RouteCase
    let runs = 0
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      handlers: {
        receipts: async () => {
          runs++
        },
      },
    })
    for (let i = 0; i < 3; i++)
      expect((await webhooks.handle(request(receipts, user, receipts.valid))).status).toBe(200)
    expect(runs).toBe(1)
  })

  it('hands out-of-order deliveries 3, 1, 2 to the handler as 1, 2, 3', async () => {
    const seen: number[] = []
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      ordering: { holdMs: 2000 },
      handlers: {
        subscriptionEvent: async ({ body }) => {
          seen.push(body.sequenceNumber)
        },
      },
    })
    const third = webhooks.handle(event(3))
    await new Promise((resolve) => setTimeout(resolve, 30))
    const first = webhooks.handle(event(1))
    await new Promise((resolve) => setTimeout(resolve, 30))
    const second = webhooks.handle(event(2))
    const answers = await Promise.all([third, first, second])
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(seen).toEqual([1, 2, 3])
    // At or below the last handled number: acknowledged without a call.
    expect((await webhooks.handle(event(2))).status).toBe(200)
    expect(seen).toEqual([1, 2, 3])
  })

  it('does not acknowledge an event whose predecessor is missing (the cloud re-sends it later)', async () => {
    const seen: number[] = []
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      ordering: { holdMs: 50 },
      handlers: {
        subscriptionEvent: async ({ body }) => {
          seen.push(body.sequenceNumber)
        },
      },
    })
    expect((await webhooks.handle(event(1))).status).toBe(200)
    const early = await webhooks.handle(event(3))
    expect(early.status).toBe(503)
    expect(early.headers['retry-after']).toBe('60')
    expect((await webhooks.handle(event(2))).status).toBe(200)
    expect((await webhooks.handle(event(3))).status).toBe(200)
    expect(seen).toEqual([1, 2, 3])
  })
})

describe('createEvotorWebhooks: hardening', () => {
  const eventBody = (extra: Record<string, unknown>) => JSON.stringify({ ...subscriptionCreated, ...extra })
  const post = (path: string, headers: Record<string, string>, body: string) => ({
    method: 'POST',
    path,
    headers,
    body,
  })

  it("refuses one user's token for another user's event (401/1002)", async () => {
    const subscriptionEvent = vi.fn()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      handlers: { subscriptionEvent },
    })
    const res = await webhooks.handle(
      post('/api/v1/subscription/event', user, eventBody({ userId: '01-000000000000002' })),
    )
    expect(res.status).toBe(401)
    expect(JSON.parse(res.body)).toEqual({ errors: [{ code: 1002 }] })
    expect(subscriptionEvent).not.toHaveBeenCalled()
    const own = await webhooks.handle(
      post('/api/v1/subscription/event', user, eventBody({ userId: USER_ID })),
    )
    expect(own.status).toBe(200)
  })

  it('handles an event with sequenceNumber 0 instead of failing it forever', async () => {
    const subscriptionEvent = vi.fn()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      handlers: { subscriptionEvent },
    })
    const res = await webhooks.handle(
      post('/api/v1/subscription/event', app, eventBody({ sequenceNumber: 0 })),
    )
    expect(res.status).toBe(200)
    expect(subscriptionEvent).toHaveBeenCalledOnce()
  })

  it('handles an event late, with a warning, when it arrives after its gap was skipped', async () => {
    const seen: number[] = []
    const logger = { warn: vi.fn(), error: vi.fn() }
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      logger,
      ordering: { holdMs: 0, gapTimeoutMs: 0 },
      handlers: {
        subscriptionEvent: async ({ body }) => {
          seen.push(body.sequenceNumber)
        },
      },
    })
    for (const n of [1, 3, 2, 2]) {
      expect(
        (await webhooks.handle(post('/api/v1/subscription/event', app, eventBody({ sequenceNumber: n }))))
          .status,
      ).toBe(200)
    }
    expect(seen).toEqual([1, 3, 2])
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('after a later one'),
      expect.objectContaining({ sequenceNumber: 2 }),
    )
  })

  it('applies a full upsert again when it changes back (A -> B -> A)', async () => {
    const names: string[] = []
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      handlers: {
        stores: async ({ body }) => {
          names.push(body[0]?.name ?? '')
        },
      },
    })
    for (const name of ['A', 'B', 'A']) {
      const res = await webhooks.handle({
        method: 'PUT',
        path: '/api/v1/inventories/stores',
        headers: user,
        body: JSON.stringify([{ uuid: STORE, name }]),
      })
      expect(res.status).toBe(200)
    }
    expect(names).toEqual(['A', 'B', 'A'])
  })

  describe('text that cannot be stored: U+0000 and unpaired surrogates', () => {
    const stores = vi.fn()
    const unknownEvent = vi.fn()
    const commodities = vi.fn()
    const warn = vi.fn()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      logger: { warn, error: vi.fn() },
      handlers: { stores, subscriptionEvent: vi.fn(), unknownEvent, commodities },
    })
    const putStores = (body: string | unknown, parsed = false) =>
      webhooks.handle({
        method: 'PUT',
        path: '/api/v1/inventories/stores',
        headers: user,
        body,
        ...(parsed ? { parsedBody: true } : {}),
      })

    it.each([
      ['U+0000 in a value', '[{"uuid":"s-1","name":"a\\u0000b"}]', '0.name'],
      ['a lone high surrogate in an id', '[{"uuid":"s-\\uD800"}]', '0.uuid'],
      ['a lone low surrogate in an array', '[{"uuid":"s-1","tags":["ok","\\udfff"]}]', '0.tags.1'],
      ['U+0000 in a key', '[{"uuid":"s-1","a\\u0000":1}]', '0'],
      ['U+0000 at the top of an object body', '{"x":"\\u0000"}', 'x'],
    ])('%s: 400/2003 naming where, the handler not run', async (_name, body, subject) => {
      stores.mockClear()
      const res = await putStores(body)
      expect(res.status).toBe(400)
      expect(JSON.parse(res.body)).toEqual({
        errors: [{ code: 2003, reason: 'incorrect', subject, value: null }],
      })
      expect(stores).not.toHaveBeenCalled()
    })

    it('a well-formed pair, an escaped backslash before "u0000", and plain text pass', async () => {
      stores.mockClear()
      const res = await putStores('[{"uuid":"s-1","name":"\\ud83d\\ude00 \\\\u0000 \\u0041 ok"}]')
      expect(res.status).toBe(200)
      expect(stores.mock.calls[0]?.[0].body[0].name).toBe('\u{1F600} \\u0000 A ok')
    })

    it('a body given as a JS string or parsed elsewhere is checked for the raw characters', async () => {
      for (const res of [
        await putStores('[{"uuid":"s-1","name":"a\ud800"}]'),
        await putStores([{ uuid: 's-1', name: 'a\u0000' }], true),
      ]) {
        expect(res.status).toBe(400)
        expect(JSON.parse(res.body).errors[0]).toMatchObject({ code: 2003, subject: '0.name' })
      }
    })

    it('an event holding one is acknowledged (200) as an invalid event, not stored by the handler', async () => {
      warn.mockClear()
      const res = await webhooks.handle(
        post('/api/v1/subscription/event', app, eventBody({ subscriptionId: 'sub-\u0000' })),
      )
      expect(res.status).toBe(200)
      expect(unknownEvent).toHaveBeenCalledOnce()
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('fails its schema'),
        expect.objectContaining({
          errors: [expect.objectContaining({ code: 2003, subject: 'subscriptionId' })],
        }),
      )
    })

    it('a query value holding one answers 400/2003', async () => {
      const res = await webhooks.handle({
        method: 'GET',
        path: '/api/v1/commodities',
        query: { scanCode: '1\u0000' },
        headers: user,
      })
      expect(res.status).toBe(400)
      expect(JSON.parse(res.body)).toEqual({
        errors: [{ code: 2003, reason: 'incorrect', subject: 'scanCode', value: null }],
      })
      expect(commodities).not.toHaveBeenCalled()
    })
  })

  it('rejects bad ordering and idempotency options at creation, naming them', () => {
    const base = { appCredential: { bearer: [APP_TOKEN] }, handlers: {} }
    expect(() => createEvotorWebhooks({ ...base, ordering: { holdMs: 10_000 } })).toThrow(/ordering\.holdMs/)
    expect(() => createEvotorWebhooks({ ...base, idempotency: { claim: () => 'claimed' } as never })).toThrow(
      /idempotency/,
    )
  })
})
