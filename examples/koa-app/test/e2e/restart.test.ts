import {
  buildDevices,
  buildInstallationEvent,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
} from 'evotor-partner/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import {
  appAuth,
  bearer,
  call,
  createTestDir,
  proxied,
  rowCounts,
  snapshot,
  startTestApp,
  type TestApp,
  trpcData,
} from './harness.js'

let dir: TempDir
let t: TestApp | undefined
beforeEach(async () => {
  dir = createTestDir()
})
afterEach(async () => {
  await t?.close()
  dir.cleanup()
})

describe('stop and start on the same database', () => {
  it('keeps accounts, tokens, states and receipts, and recognises re-delivered events as done', async () => {
    t = await startTestApp(dir)
    const userId = randomUserId()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const subscriptionId = randomUuid()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const { token } = created.json as { token: string }
    const events = [
      buildSubscriptionEvent('SubscriptionCreated', { subscriptionId, sequenceNumber: 1, userId }),
      buildSubscriptionEvent('SubscriptionActivated', { subscriptionId, sequenceNumber: 2, userId }),
    ]
    for (const event of events) {
      expect(
        (await call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: event })).status,
      ).toBe(200)
    }
    const installed = buildInstallationEvent('ApplicationInstalled', { userId })
    expect(
      (await call(t.url, 'POST', '/api/v2/installation/event', { auth: appAuth, body: installed })).status,
    ).toBe(200)
    await call(t.url, 'PUT', '/api/v1/inventories/stores', {
      auth: bearer(token),
      body: buildStores({ storeUuid }),
    })
    await call(t.url, 'PUT', '/api/v1/inventories/devices', {
      auth: bearer(token),
      body: buildDevices({ storeUuid, deviceUuid }),
    })
    const receipt = buildReceipt({ userId, storeUuid, deviceUuid })
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt })).status,
    ).toBe(200)
    const terminal = { userId, storeUuid, deviceUuid, token }
    const stateBefore = trpcData(await proxied(t.url, '/trpc/account.state', terminal))
    const rowsBefore = await rowCounts(t.server)
    await t.close()
    expect(t.server.data.open).toBe(false)

    t = await startTestApp(dir)
    expect(await rowCounts(t.server)).toEqual(rowsBefore)
    const stored = await snapshot(t.server)
    // The token issued before the restart still opens the proxied API (nothing cached yet).
    expect(trpcData(await proxied(t.url, '/trpc/account.state', terminal))).toEqual(stateBefore)
    expect(stateBefore).toMatchObject({
      installed: true,
      subscriptions: [{ subscriptionId, state: 'ACTIVATED', lastSequenceNumber: 2 }],
    })
    expect(trpcData(await proxied(t.url, '/trpc/store.summary', terminal))).toMatchObject({ count: 1 })

    // Every re-delivery is acknowledged without running its handler again.
    const redelivered = [
      ['/api/v1/subscription/event', appAuth, events[0]],
      ['/api/v1/subscription/event', appAuth, events[1]],
      ['/api/v2/installation/event', appAuth, installed],
      ['/api/v2/receipts', bearer(token), receipt],
    ] as const
    for (const [path, auth, body] of redelivered) {
      expect((await call(t.url, 'POST', path, { auth, body })).status, path).toBe(200)
    }
    expect([...t.handled.entries()]).toEqual([])
    expect(await snapshot(t.server)).toBe(stored)

    // A retried user/create answers the token of before; the account is the same.
    const again = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    expect(again.json).toEqual({ userId, token })
    expect(await rowCounts(t.server)).toEqual(rowsBefore)
  })

  it('an uninstall before the restart still refuses the token after it', async () => {
    t = await startTestApp(dir)
    const userId = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const { token } = created.json as { token: string }
    const uninstalled = buildInstallationEvent('ApplicationUninstalled', { userId })
    expect(
      (await call(t.url, 'POST', '/api/v2/installation/event', { auth: appAuth, body: uninstalled })).status,
    ).toBe(200)
    await t.close()

    t = await startTestApp(dir)
    const terminal = { userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid(), token }
    expect((await proxied(t.url, '/trpc/whoami', terminal)).status).toBe(401)
    // A reinstall issues a new token; the old one stays dead.
    const recreated = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const fresh = (recreated.json as { token: string }).token
    expect(fresh).not.toBe(token)
    expect((await proxied(t.url, '/trpc/whoami', { ...terminal, token: fresh })).status).toBe(200)
    expect((await proxied(t.url, '/trpc/whoami', terminal)).status).toBe(401)
  })
})
