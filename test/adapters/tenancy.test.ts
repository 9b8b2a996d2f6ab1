/**
 * Issue "Tenant isolation and hostile input", library side, over real HTTP through every adapter:
 * one verified user per request, keys scoped per user, bounded validation and nesting, exact
 * decimals, lenient addons. Each case here failed on the code before the fix.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createEvotorWebhooks } from '../../src/core/webhooks.js'
import { ENDPOINTS } from './helpers/endpoints.js'
import { HARNESSES, type Started } from './helpers/harness.js'

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/assembled/${name}`, import.meta.url), 'utf8'))

const APP_TOKEN = 'tenancy-app-token-0123456789abcdef'
const A = '01-000000000000001'
const B = '01-000000000000002'
const STORE = '20170928-3176-40EB-80E2-A11F032E282A'
const tokens = createUserTokens({ secret: 'tenancy-test-secret-0123456789-abcdefghij' })

interface Reached {
  route: string
  userId: string | undefined
  body: unknown
}

function dispatcher() {
  const reached: Reached[] = []
  const record = (context: { route: string; userId: string | undefined; body: unknown }) => {
    reached.push({ route: context.route, userId: context.userId, body: context.body })
  }
  const webhooks = createEvotorWebhooks({
    appCredential: { bearer: [APP_TOKEN] },
    userTokens: tokens,
    handlers: {
      userCreate: async ({ body }) => ({ userId: body.userId, token: await tokens.issue(body.userId) }),
      userVerify: async ({ body }) => ({
        userId: body.userId,
        token: await tokens.issue(body.userId),
        hasBilling: false,
      }),
      userToken: record,
      commodities: () => ({ name: 'x', measure: 'шт', scanCodes: [] }),
      subscriptionEvent: record,
      installationEvent: record,
      stores: record,
      devices: record,
      employees: record,
      products: record,
      documents: record,
      receipts: record,
      unknownEvent: (context) =>
        record({ route: `unknownEvent:${context.reason}`, userId: context.userId, body: context.event }),
    },
  })
  return { webhooks, reached }
}

async function send(
  url: string,
  method: string,
  path: string,
  authorization: string,
  body: unknown,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, text: await res.text() }
}

for (const harness of HARNESSES) {
  describe(`one user per request (${harness.name})`, () => {
    let server: Started
    let state: ReturnType<typeof dispatcher>
    let tokenA: string
    let tokenB: string
    beforeAll(async () => {
      state = dispatcher()
      server = await harness.webhooks(state.webhooks)
      tokenA = `Bearer ${await tokens.issue(A)}`
      tokenB = `Bearer ${await tokens.issue(B)}`
    })
    afterAll(() => server.close())

    it("refuses A's token uninstalling B (data.userId = B, top-level userId = A) with 401/1002", async () => {
      const event = {
        ...fixture('partner_v2_installation_event.POST.request.ApplicationUninstalled.json'),
        id: `uninstall-${harness.name}`,
        userId: A,
        data: { productId: 'p', userId: B },
      }
      const before = state.reached.length
      const res = await send(server.url, 'POST', '/api/v2/installation/event', tokenA, event)
      expect(res.status).toBe(401)
      expect(JSON.parse(res.text)).toEqual({ errors: [{ code: 1002 }] })
      expect(state.reached.length).toBe(before)
      // B's own, identical event is then handled for B: nothing was claimed in B's name.
      const own = await send(server.url, 'POST', '/api/v2/installation/event', tokenB, {
        ...event,
        userId: B,
      })
      expect(own.status).toBe(200)
      expect(state.reached.at(-1)).toMatchObject({ route: 'installationEvent', userId: B })
    })

    it("refuses A's token naming B on a subscription event, even when the event is invalid", async () => {
      const event = {
        ...fixture('partner_v1_subscription_event.POST.request.SubscriptionTerminated.json'),
        userId: B,
      }
      const before = state.reached.length
      expect((await send(server.url, 'POST', '/api/v1/subscription/event', tokenA, event)).status).toBe(401)
      const broken = { ...event, sequenceNumber: 'not a number', type: 'SubscriptionRenewed' }
      expect((await send(server.url, 'POST', '/api/v1/subscription/event', tokenA, broken)).status).toBe(401)
      expect(state.reached.length).toBe(before)
    })

    it("does not let A's subscription event pre-empt B's with the same subscriptionId and number", async () => {
      const subscriptionId = `sub-shared-${harness.name}`
      const event = {
        ...fixture('partner_v1_subscription_event.POST.request.SubscriptionTerminated.json'),
        subscriptionId,
        sequenceNumber: 1,
      }
      const mine = await send(server.url, 'POST', '/api/v1/subscription/event', tokenA, {
        ...event,
        userId: A,
      })
      expect(mine.status).toBe(200)
      const theirs = await send(server.url, 'POST', '/api/v1/subscription/event', tokenB, {
        ...event,
        userId: B,
      })
      expect(theirs.status).toBe(200)
      const handled = state.reached.filter(
        (r) =>
          r.route === 'subscriptionEvent' &&
          (r.body as { subscriptionId: string }).subscriptionId === subscriptionId,
      )
      expect(handled.map((r) => r.userId)).toEqual([A, B])
    })

    it("stores A's receipts under A only, and B's receipts with the same ids still reach B", async () => {
      const receipt = fixture('partner_v2_receipts.POST.request.json')
      const eventId = `receipt-event-${harness.name}`
      const squatted = { ...receipt, id: eventId, userId: A }
      expect((await send(server.url, 'POST', '/api/v2/receipts', tokenA, squatted)).status).toBe(200)
      expect(state.reached.at(-1)).toMatchObject({ route: 'receipts', userId: A })
      const real = { ...receipt, id: eventId, userId: B }
      expect((await send(server.url, 'POST', '/api/v2/receipts', tokenB, real)).status).toBe(200)
      expect(state.reached.at(-1)).toMatchObject({ route: 'receipts', userId: B })
      // A receipt that names B, alone or inside an array, is refused under A's token.
      const before = state.reached.length
      expect((await send(server.url, 'POST', '/api/v2/receipts', tokenA, real)).status).toBe(401)
      const mixed = [squatted, { ...real, id: `${eventId}-2` }]
      expect((await send(server.url, 'POST', '/api/v2/receipts', tokenA, mixed)).status).toBe(401)
      const dataUser = { ...squatted, id: `${eventId}-3`, data: { ...(receipt.data as object), userId: B } }
      expect((await send(server.url, 'POST', '/api/v2/receipts', tokenA, dataUser)).status).toBe(401)
      expect(state.reached.length).toBe(before)
    })

    it('answers 400/2003 when the app credential names two different users', async () => {
      const event = {
        ...fixture('partner_v2_installation_event.POST.request.ApplicationInstalled.json'),
        id: `installed-${harness.name}`,
        userId: A,
        data: { productId: 'p', userId: B },
      }
      const res = await send(server.url, 'POST', '/api/v2/installation/event', `Bearer ${APP_TOKEN}`, event)
      expect(res.status).toBe(400)
      expect(JSON.parse(res.text)).toEqual({
        errors: [{ code: 2003, reason: 'incorrect', subject: 'data.userId', value: B }],
      })
      const legacy = await send(server.url, 'POST', '/api/v1/user/create', `Bearer ${APP_TOKEN}`, {
        userId: A,
        userUuid: B,
      })
      expect(legacy.status).toBe(400)
      expect(JSON.parse(legacy.text).errors[0]).toMatchObject({ code: 2003, subject: 'userUuid' })
    })

    it('answers a 1,000,000-element array with a small 400 and keeps serving others meanwhile', async () => {
      const body = `[${new Array(1_000_000).fill('1').join(',')}]`
      const big = send(server.url, 'PUT', '/api/v1/inventories/stores', tokenA, body)
      const cheap = send(server.url, 'POST', '/api/v1/user/create', `Bearer ${APP_TOKEN}`, { userId: A })
      const [bigRes, cheapRes] = await Promise.all([big, cheap])
      expect(cheapRes.status).toBe(200)
      expect(bigRes.status).toBe(400)
      expect(bigRes.text.length).toBeLessThan(4096)
      const answer = JSON.parse(bigRes.text)
      expect(answer.errors).toHaveLength(20)
      expect(answer.errors[0]).toMatchObject({ code: 2003, subject: '0' })
      expect(answer.moreErrors).toBeGreaterThan(0)
    })

    it('refuses a 1,000,000-element array inside a body at once, naming where it is', async () => {
      const receipt = fixture('partner_v2_receipts.POST.request.json')
      const items = `[${new Array(1_000_000).fill('1').join(',')}]`
      const body = JSON.stringify({ ...receipt, userId: A, data: { ...(receipt.data as object), items: 0 } })
      const res = await send(
        server.url,
        'POST',
        '/api/v2/receipts',
        tokenA,
        body.replace('"items":0', `"items":${items}`),
      )
      expect(res.status).toBe(400)
      expect(JSON.parse(res.text)).toEqual({
        errors: [{ code: 2003, reason: 'incorrect', subject: 'data.items', value: null }],
      })
    })

    it('refuses 10,000-deep nesting on every route: 400/2001, or 200 + unknownEvent on event routes', async () => {
      let deep = '1'
      for (let i = 0; i < 10_000; i++) deep = `{"a":${deep}}`
      for (const endpoint of ENDPOINTS) {
        if (endpoint.method === 'GET') continue
        // A fresh subscription starting at 1, so that ordering does not hold the event back.
        const valid = endpoint.body
          .trim()
          .replace(/"subscriptionId": "[^"]*"/, `"subscriptionId": "deep-${harness.name}"`)
          .replace(/"sequenceNumber": \d+/, '"sequenceNumber": 1')
        const body = valid.startsWith('[')
          ? `[{"deep":${deep}},${valid.slice(1)}`
          : `{"deep":${deep},${valid.slice(1)}`
        const credential = endpoint.credential === 'app' ? `Bearer ${APP_TOKEN}` : tokenA
        const path = endpoint.path.replace(':storeUuid', STORE)
        const before = state.reached.length
        const res = await send(server.url, endpoint.method, path, credential, body)
        if (endpoint.route === 'subscriptionEvent' || endpoint.route === 'installationEvent') {
          expect(res.status, endpoint.route).toBe(200)
          expect(state.reached.at(-1)?.route, endpoint.route).toBe('unknownEvent:invalid')
        } else {
          expect(res.status, endpoint.route).toBe(400)
          expect(JSON.parse(res.text).errors[0], endpoint.route).toMatchObject({ code: 2001 })
          expect(state.reached.length, endpoint.route).toBe(before)
        }
      }
    })

    it('refuses amounts that cannot be exact and keeps big decimal strings exactly', async () => {
      const receipt = fixture('partner_v2_receipts.POST.request.json')
      const data = receipt.data as Record<string, unknown>
      const raw = JSON.stringify({
        ...receipt,
        id: `amount-${harness.name}`,
        userId: A,
        data: { ...data, totalAmount: 0 },
      })
      const hugeNumber = raw.replace('"totalAmount":0', '"totalAmount":12345678901234567890.123456789')
      const res = await send(server.url, 'POST', '/api/v2/receipts', tokenA, hugeNumber)
      expect(res.status).toBe(400)
      expect(JSON.parse(res.text).errors[0]).toMatchObject({ code: 2003, subject: 'data.totalAmount' })
      const infinite = raw.replace('"totalAmount":0', '"totalAmount":"1e400"')
      const inf = await send(server.url, 'POST', '/api/v2/receipts', tokenA, infinite)
      expect(inf.status).toBe(400)
      expect(JSON.parse(inf.text).errors[0]).toMatchObject({
        code: 2003,
        subject: 'data.totalAmount',
        value: '1e400',
      })
      const exact = raw.replace('"totalAmount":0', '"totalAmount":"12345678901234567890.123456789"')
      expect((await send(server.url, 'POST', '/api/v2/receipts', tokenA, exact)).status).toBe(200)
      const stored = state.reached.at(-1)?.body as Array<{ data: { totalAmount: unknown } }>
      expect(stored[0]?.data.totalAmount).toBe('12345678901234567890.123456789')
    })

    it('hands AddonsUpdated with an addon without quantity (or without id) to the typed handler', async () => {
      const event = {
        ...fixture('partner_v1_subscription_event.POST.request.AddonsUpdated.json'),
        subscriptionId: `addons-${harness.name}`,
        sequenceNumber: 1,
        userId: A,
        addons: [{ id: 'addon-1' }, { quantity: 2 }],
      }
      expect((await send(server.url, 'POST', '/api/v1/subscription/event', tokenA, event)).status).toBe(200)
      expect(state.reached.at(-1)).toMatchObject({
        route: 'subscriptionEvent',
        userId: A,
        body: { type: 'AddonsUpdated', addons: [{ id: 'addon-1' }, { quantity: 2 }] },
      })
    })
  })
}

describe('options that would fail late fail at construction', () => {
  const base = { appCredential: { bearer: [APP_TOKEN] }, handlers: {} }
  it('refuses a userTokens that is not a verifier, naming the option', () => {
    for (const userTokens of [{}, { verify: 'no' }, null, 42]) {
      expect(() => createEvotorWebhooks({ ...base, userTokens: userTokens as never })).toThrow(
        /createEvotorWebhooks: userTokens must be a user-token verifier/,
      )
    }
  })
  it('refuses weak app credentials and user-token secrets, saying how to make one', () => {
    for (const bearer of ['x', 'undefined', 'null', '0123456789abcde']) {
      expect(() => createEvotorWebhooks({ ...base, appCredential: { bearer } })).toThrow(
        /openssl rand -base64 48/,
      )
    }
    expect(() =>
      createEvotorWebhooks({
        ...base,
        appCredential: { basic: { username: 'evotor', password: 'password' } },
      }),
    ).toThrow(/appCredential\.basic: password/)
    expect(() => createUserTokens({ secret: 'a'.repeat(32) })).toThrow(
      /distinct bytes.*openssl rand -base64 48/,
    )
  })
})
