import {
  buildDocuments,
  buildInstallationEvent,
  buildProducts,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
  type SubscriptionEventType,
} from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import {
  appAuth,
  bearer,
  call,
  createTestDir,
  errorCode,
  input,
  proxied,
  snapshot,
  startTestApp,
  type TestApp,
  trpcData,
} from './harness.js'

let dir: TempDir
let t: TestApp
beforeAll(async () => {
  dir = createTestDir()
  t = await startTestApp(dir, { holdMs: 400 })
})
afterAll(async () => {
  await t.close()
  dir.cleanup()
})

interface User {
  userId: string
  token: string
}

async function newUser(): Promise<User> {
  const userId = randomUserId()
  const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
  expect(created.status).toBe(200)
  return { userId, token: (created.json as { token: string }).token }
}

function subscriptionEvent(
  type: SubscriptionEventType,
  subscriptionId: string,
  sequenceNumber: number,
  userId: string,
) {
  return buildSubscriptionEvent(type, { subscriptionId, sequenceNumber, userId })
}

describe('two users sharing ids', () => {
  it('stores and summarises receipts, documents and subscriptions with the same ids separately', async () => {
    const a = await newUser()
    const b = await newUser()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()

    // The same store uuid in both cabinets.
    for (const [user, name] of [
      [a, 'Магазин A'],
      [b, 'Магазин B'],
    ] as const) {
      const answer = await call(t.url, 'PUT', '/api/v1/inventories/stores', {
        auth: bearer(user.token),
        body: buildStores({ storeUuid, name }),
      })
      expect(answer.status).toBe(200)
    }
    expect((await t.server.repos.inventory.getStore(a.userId, storeUuid))?.name).toBe('Магазин A')
    expect((await t.server.repos.inventory.getStore(b.userId, storeUuid))?.name).toBe('Магазин B')

    // The same event id and receipt id, different amounts.
    const shared = buildReceipt({ userId: a.userId, storeUuid, deviceUuid })
    const receiptOfA = { ...shared, data: { ...shared.data, totalAmount: '100.10' } }
    const receiptOfB = { ...shared, userId: b.userId, data: { ...shared.data, totalAmount: 7 } }
    for (const [user, body] of [
      [a, receiptOfA],
      [b, receiptOfB],
    ] as const) {
      expect((await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(user.token), body })).status).toBe(
        200,
      )
    }
    expect((await t.server.repos.receipts.get(a.userId, shared.data.id))?.totalAmount).toBe('100.10')
    expect((await t.server.repos.receipts.get(b.userId, shared.data.id))?.totalAmount).toBe('7')
    const summaryOf = async (user: User) =>
      trpcData(await proxied(t.url, '/trpc/store.summary', { ...user, storeUuid, deviceUuid }))
    expect(await summaryOf(a)).toMatchObject({ storeUuid, count: 1, total: '100.10' })
    expect(await summaryOf(b)).toMatchObject({ storeUuid, count: 1, total: '7.00' })

    // The same document uuid in the same store.
    const [document] = buildDocuments({ storeUuid, deviceUuid })
    const documentsPath = `/api/v1/inventories/stores/${storeUuid}/documents`
    for (const user of [a, b]) {
      const answer = await call(t.url, 'PUT', documentsPath, {
        auth: bearer(user.token),
        body: [{ ...document, userId: user.userId }],
      })
      expect(answer.status).toBe(200)
    }
    const uuid = document?.uuid ?? ''
    expect((await t.server.repos.documents.get(a.userId, storeUuid, uuid))?.userId).toBe(a.userId)
    expect((await t.server.repos.documents.get(b.userId, storeUuid, uuid))?.userId).toBe(b.userId)

    // The same subscription id and sequence numbers: each user's history is their own.
    const subscriptionId = randomUuid()
    const send = (body: unknown, auth: string) =>
      call(t.url, 'POST', '/api/v1/subscription/event', { auth, body })
    expect(
      (await send(subscriptionEvent('SubscriptionCreated', subscriptionId, 1, a.userId), appAuth)).status,
    ).toBe(200)
    expect(
      (await send(subscriptionEvent('SubscriptionCreated', subscriptionId, 1, b.userId), bearer(b.token)))
        .status,
    ).toBe(200)
    expect(
      (await send(subscriptionEvent('SubscriptionActivated', subscriptionId, 2, a.userId), bearer(a.token)))
        .status,
    ).toBe(200)
    expect(
      (await send(subscriptionEvent('SubscriptionTerminated', subscriptionId, 2, b.userId), appAuth)).status,
    ).toBe(200)
    const stateOf = async (user: User) =>
      trpcData<{ subscriptions: Array<{ subscriptionId: string; state: string }> }>(
        await proxied(t.url, '/trpc/account.state', { ...user, storeUuid, deviceUuid }),
      ).subscriptions
    expect(await stateOf(a)).toEqual([expect.objectContaining({ subscriptionId, state: 'ACTIVATED' })])
    expect(await stateOf(b)).toEqual([expect.objectContaining({ subscriptionId, state: 'TERMINATED' })])

    // The same installation event id.
    const eventId = randomUuid()
    for (const user of [a, b]) {
      const event = buildInstallationEvent('ApplicationInstalled', { userId: user.userId, id: eventId })
      expect(
        (await call(t.url, 'POST', '/api/v2/installation/event', { auth: appAuth, body: event })).status,
      ).toBe(200)
      expect(await t.server.repos.installations.isInstalled(user.userId)).toBe(true)
    }
  })
})

describe("one user's token against another user's rows", () => {
  it('cannot write receipts, uninstall or terminate for another user; the victim’s own events still apply', async () => {
    const a = await newUser()
    const b = await newUser()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const subscriptionId = randomUuid()
    const sendEvent = (body: unknown, auth: string) =>
      call(t.url, 'POST', '/api/v1/subscription/event', { auth, body })
    expect(
      (
        await sendEvent(
          subscriptionEvent('SubscriptionCreated', subscriptionId, 1, b.userId),
          bearer(b.token),
        )
      ).status,
    ).toBe(200)
    const before = await snapshot(t.server, ['idempotency_keys', 'subscription_sequences'])

    // A receipt naming B, sent with A's token.
    const squatted = buildReceipt({ userId: b.userId, storeUuid, deviceUuid })
    const refused = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(a.token), body: squatted })
    expect(refused.status).toBe(401)
    expect(errorCode(refused)).toBe(1002)
    // A receipt whose data names B, the rest A.
    const inner = buildReceipt({ userId: a.userId, storeUuid, deviceUuid })
    const innerRefused = await call(t.url, 'POST', '/api/v2/receipts', {
      auth: bearer(a.token),
      body: { ...inner, data: { ...inner.data, userId: b.userId } },
    })
    expect(innerRefused.status).toBe(401)
    // An uninstall of B: data.userId = B, top-level userId = A, A's token.
    const uninstall = {
      ...buildInstallationEvent('ApplicationUninstalled', { userId: b.userId }),
      userId: a.userId,
    }
    expect(
      (await call(t.url, 'POST', '/api/v2/installation/event', { auth: bearer(a.token), body: uninstall }))
        .status,
    ).toBe(401)
    // B's subscription terminated by A.
    expect(
      (
        await sendEvent(
          subscriptionEvent('SubscriptionTerminated', subscriptionId, 2, b.userId),
          bearer(a.token),
        )
      ).status,
    ).toBe(401)
    expect(await snapshot(t.server, ['idempotency_keys', 'subscription_sequences'])).toBe(before)

    // A's token speaking for A with B's subscription id and B's next number: A's own row only.
    expect(
      (await sendEvent(subscriptionEvent('SubscriptionTerminated', subscriptionId, 2, a.userId), appAuth))
        .status,
    ).toBe(503) // A has no event 1 for it: held, then not acknowledged (ordering is per user)
    expect(
      (
        await sendEvent(
          subscriptionEvent('SubscriptionTerminated', subscriptionId, 1, a.userId),
          bearer(a.token),
        )
      ).status,
    ).toBe(200)
    expect(await t.server.repos.subscriptions.get(a.userId, subscriptionId)).toMatchObject({
      userId: a.userId,
      state: 'TERMINATED',
    })
    expect(await t.server.repos.subscriptions.get(b.userId, subscriptionId)).toMatchObject({
      userId: b.userId,
      state: 'CREATED',
    })
    // B's genuine event with that sequenceNumber is applied, not dropped as a duplicate.
    expect(
      (
        await sendEvent(
          subscriptionEvent('SubscriptionActivated', subscriptionId, 2, b.userId),
          bearer(b.token),
        )
      ).status,
    ).toBe(200)
    expect(await t.server.repos.subscriptions.get(b.userId, subscriptionId)).toMatchObject({
      userId: b.userId,
      state: 'ACTIVATED',
      lastSequenceNumber: 2,
    })
    expect((await t.server.repos.subscriptions.get(a.userId, subscriptionId))?.state).toBe('TERMINATED')
    // B's token still works: nothing of B's was revoked.
    const bStores = await call(t.url, 'PUT', '/api/v1/inventories/stores', {
      auth: bearer(b.token),
      body: buildStores({ storeUuid }),
    })
    expect(bStores.status).toBe(200)
  })

  it("the tRPC API behind the proxy never reads another user's rows", async () => {
    const a = await newUser()
    const b = await newUser()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const barcode = '4601234567890'
    // B's store: receipts, products, a subscription.
    expect(
      (
        await call(t.url, 'POST', `/api/v1/inventories/stores/${storeUuid}/products`, {
          auth: bearer(b.token),
          body: buildProducts({ barcode }),
        })
      ).status,
    ).toBe(200)
    const receipt = buildReceipt({ userId: b.userId, storeUuid, deviceUuid })
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(b.token), body: receipt })).status,
    ).toBe(200)
    const subscription = subscriptionEvent('SubscriptionCreated', randomUuid(), 1, b.userId)
    expect(
      (await call(t.url, 'POST', '/api/v1/subscription/event', { auth: bearer(b.token), body: subscription }))
        .status,
    ).toBe(200)
    const ofB = { userId: b.userId, storeUuid, deviceUuid, token: b.token }
    expect(trpcData(await proxied(t.url, '/trpc/store.summary', ofB))).toMatchObject({
      count: 1,
      total: '89.90',
    })

    // A's token claiming to be B: refused by the proxy before any procedure runs.
    const impersonated = await proxied(t.url, '/trpc/store.summary', { ...ofB, token: a.token })
    expect(impersonated.status).toBe(401)
    // A's token in B's store and on B's terminal: A sees only A's (empty) data.
    const ofA = { userId: a.userId, storeUuid, deviceUuid, token: a.token }
    expect(trpcData(await proxied(t.url, '/trpc/store.summary', ofA))).toMatchObject({
      count: 0,
      total: '0.00',
    })
    const lookup = await proxied(t.url, `/trpc/catalog.lookup${input({ barcode })}`, ofA)
    expect(lookup.status).toBe(404)
    expect(trpcData(await proxied(t.url, '/trpc/account.state', ofA))).toMatchObject({
      userId: a.userId,
      subscriptions: [],
    })
    // B still sees B's.
    expect((await proxied(t.url, `/trpc/catalog.lookup${input({ barcode })}`, ofB)).status).toBe(200)
  })
})

describe('amounts', () => {
  it('keeps an amount wider than a double exactly and sums it exactly; refuses what cannot be kept', async () => {
    const user = await newUser()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const huge = buildReceipt({ userId: user.userId, storeUuid, deviceUuid })
    huge.data.totalAmount = '12345678901234567890.123456789'
    const small = buildReceipt({ userId: user.userId, storeUuid, deviceUuid })
    small.data.totalAmount = '0.000000001'
    const answer = await call(t.url, 'POST', '/api/v2/receipts', {
      auth: bearer(user.token),
      body: [huge, small],
    })
    expect(answer.status).toBe(200)
    expect((await t.server.repos.receipts.get(user.userId, huge.data.id))?.totalAmount).toBe(
      '12345678901234567890.123456789',
    )
    const summary = trpcData(await proxied(t.url, '/trpc/store.summary', { ...user, storeUuid, deviceUuid }))
    expect(summary).toMatchObject({ count: 2, total: '12345678901234567890.123456790' })

    for (const totalAmount of ['1e400', `0.${'0'.repeat(2000)}1`]) {
      const bad = buildReceipt({ userId: user.userId, storeUuid, deviceUuid })
      bad.data.totalAmount = totalAmount
      const refused = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(user.token), body: bad })
      expect(refused.status, totalAmount.slice(0, 10)).toBe(400)
      expect(errorCode(refused)).toBe(2003)
      expect(await t.server.repos.receipts.get(user.userId, bad.data.id)).toBeUndefined()
    }
    // A JSON number too wide for a double is refused, not stored rounded.
    const wide = buildReceipt({ userId: user.userId, storeUuid, deviceUuid })
    const raw = JSON.stringify(wide).replace(
      /"totalAmount":[^,}]+/,
      '"totalAmount":12345678901234567890.123456789',
    )
    const refused = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(user.token), raw })
    expect(refused.status).toBe(400)
    expect(await t.server.repos.receipts.get(user.userId, wide.data.id)).toBeUndefined()
    expect(
      trpcData(await proxied(t.url, '/trpc/store.summary', { ...user, storeUuid, deviceUuid })),
    ).toMatchObject({
      count: 2,
    })
  })
})
