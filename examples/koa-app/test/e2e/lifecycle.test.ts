import {
  buildDevices,
  buildDocuments,
  buildEmployees,
  buildInstallationEvent,
  buildProducts,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  buildUserToken,
  randomBarcode,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
} from 'evotor-partner/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import {
  APP_TOKEN,
  appAuth,
  bearer,
  call,
  createTestDir,
  errorCode,
  input,
  proxied,
  rowCounts,
  startTestApp,
  type TestApp,
  trpcData,
} from './harness.js'

describe.each([2, 1] as const)('the life of one installation (proxy ver. %i)', (proxyVersion) => {
  let dir: TempDir
  let t: TestApp
  beforeEach(async () => {
    dir = createTestDir()
    t = await startTestApp(dir, { proxyVersion })
  })
  afterEach(async () => {
    await t.close()
    dir.cleanup()
  })

  it('create -> token -> events -> inventory -> products -> receipts -> summary -> uninstall -> 401', async () => {
    const userId = randomUserId()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const barcode = randomBarcode()
    const subscriptionId = randomUuid()

    const created = await call(t.url, 'POST', '/api/v1/user/create', {
      auth: appAuth,
      body: { userId, companyName: 'ООО Ромашка' },
    })
    expect(created.status).toBe(200)
    const { token } = created.json as { userId: string; token: string }
    expect(created.json).toEqual({ userId, token })
    expect(token).toMatch(/^[A-Za-z0-9_-]{1,128}$/)
    const user = bearer(token)

    const cloudToken = buildUserToken({ userId })
    expect(
      (await call(t.url, 'POST', '/api/v1/user/token', { auth: appAuth, body: cloudToken })).status,
    ).toBe(200)
    expect((await t.server.repos.evotorTokens.get(userId))?.token).toBe(cloudToken.token)

    const subscriptionCreated = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId,
      sequenceNumber: 1,
      userId,
    })
    expect(
      (await call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: subscriptionCreated }))
        .status,
    ).toBe(200)
    expect((await t.server.repos.subscriptions.get(userId, subscriptionId))?.state).toBe('CREATED')

    const installed = buildInstallationEvent('ApplicationInstalled', { userId })
    expect(
      (await call(t.url, 'POST', '/api/v2/installation/event', { auth: appAuth, body: installed })).status,
    ).toBe(200)
    expect(await t.server.repos.installations.isInstalled(userId)).toBe(true)

    const devices = buildDevices({ storeUuid, deviceUuid }).map((d) => ({
      ...d,
      timezoneOffset: 3 * 3600_000,
    }))
    for (const [path, body] of [
      ['/api/v1/inventories/stores', buildStores({ storeUuid, name: 'Магазин у дома' })],
      ['/api/v1/inventories/devices', devices],
      ['/api/v1/inventories/employees', buildEmployees({ storeUuid })],
    ] as const) {
      const answer = await call(t.url, 'PUT', path, { auth: user, body })
      expect(answer.status, path).toBe(200)
      expect(answer.text).toBe('')
    }
    expect((await t.server.repos.inventory.getStore(userId, storeUuid))?.name).toBe('Магазин у дома')
    expect((await t.server.repos.inventory.getDevice(userId, deviceUuid))?.timezoneOffset).toBe(3 * 3600_000)

    const products = buildProducts({ barcode })
    const productsPath = `/api/v1/inventories/stores/${storeUuid}/products`
    expect((await call(t.url, 'POST', productsPath, { auth: user, body: products })).status).toBe(200)

    const commodity = await call(t.url, 'GET', `/api/v1/commodities?scanCode=${barcode}`, { auth: user })
    expect(commodity.status).toBe(200)
    expect(commodity.json).toMatchObject({ name: 'Квас хлебный 0,5 л', measure: 'шт', scanCodes: [barcode] })

    const documents = buildDocuments({ storeUuid, deviceUuid })
    const documentsPath = `/api/v1/inventories/stores/${storeUuid}/documents`
    expect((await call(t.url, 'PUT', documentsPath, { auth: user, body: documents })).status).toBe(200)

    const receipt = buildReceipt({ userId, storeUuid, deviceUuid })
    expect((await call(t.url, 'POST', '/api/v2/receipts', { auth: user, body: receipt })).status).toBe(200)

    const terminal = { userId, storeUuid, deviceUuid, token }
    const whoami = await proxied(t.url, '/trpc/whoami', terminal, proxyVersion)
    expect(whoami.status).toBe(200)
    expect(trpcData(whoami)).toEqual({ userId, storeUuid, deviceUuid })

    const summary = await proxied(t.url, '/trpc/store.summary', terminal, proxyVersion)
    expect(summary.status).toBe(200)
    expect(trpcData(summary)).toMatchObject({
      storeUuid,
      count: 1,
      total: '89.90',
      timezoneOffsetMinutes: 180,
    })
    if (proxyVersion === 1) {
      expect(summary.outer.headers.get('content-type')).toMatch(/^application\/json/)
      expect(typeof (summary.outer.json as { body: unknown }).body).toBe('string')
    }

    const found = await proxied(t.url, `/trpc/catalog.lookup${input({ barcode })}`, terminal, proxyVersion)
    expect(found.status).toBe(200)
    expect(trpcData(found)).toMatchObject({ name: 'Квас хлебный 0,5 л', price: '89.9', barCodes: [barcode] })
    const viaPost = await proxied(t.url, '/trpc/catalog.lookup', terminal, proxyVersion, {
      method: 'POST',
      body: { barcode },
    })
    expect(viaPost.status).toBe(200)
    const missing = await proxied(
      t.url,
      `/trpc/catalog.lookup${input({ barcode: '0000000000000' })}`,
      terminal,
      proxyVersion,
    )
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ error: { data: { code: 'NOT_FOUND' } } })

    const uninstalled = buildInstallationEvent('ApplicationUninstalled', {
      userId,
      timestamp: Date.now() + 1000,
    })
    expect(
      (await call(t.url, 'POST', '/api/v2/installation/event', { auth: appAuth, body: uninstalled })).status,
    ).toBe(200)
    expect(await t.server.repos.installations.isInstalled(userId)).toBe(false)

    // The same proxied call, answered from the verifier's cache a moment ago, is refused at once.
    const after = await proxied(t.url, '/trpc/store.summary', terminal, proxyVersion)
    expect(after.status).toBe(401)
    expect(errorCode(after)).toBe(1002)
    const webhookAfter = await call(t.url, 'PUT', '/api/v1/inventories/stores', {
      auth: user,
      body: buildStores({ storeUuid }),
    })
    expect(webhookAfter.status).toBe(401)

    expect(await rowCounts(t.server)).toMatchObject({
      receipts: 1,
      documents: 1,
      products: 3,
      stores: 1,
      devices: 1,
      employees: 1,
    })
    // Structured logs: a request line per call, and no secret anywhere.
    const lines = JSON.stringify(t.logs)
    expect(lines).not.toContain(token)
    expect(lines).not.toContain(APP_TOKEN)
    expect(lines).not.toContain(cloudToken.token)
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        msg: 'request',
        method: 'GET',
        path: '/trpc/store.summary',
        status: proxyVersion === 1 ? 200 : 401,
      }),
    )
    for (const line of t.logs.filter((l) => l.msg === 'request')) {
      expect(Object.keys(line).sort()).toEqual(['level', 'method', 'ms', 'msg', 'path', 'status', 'time'])
    }
  })

  it('a retried user/create answers the same token', async () => {
    const userId = randomUserId()
    const first = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const again = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    expect(first.status).toBe(200)
    expect(again.status).toBe(200)
    expect(again.json).toEqual(first.json)
    // No demo account: credentials are configured (see start-up tests).
    expect(await rowCounts(t.server)).toMatchObject({ partner_accounts: 1, user_tokens: 1 })
  })
})
