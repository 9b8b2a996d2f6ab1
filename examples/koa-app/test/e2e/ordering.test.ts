import {
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
  proxied,
  rowCounts,
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

async function newUser(): Promise<{ userId: string; token: string }> {
  const userId = randomUserId()
  const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
  return { userId, token: (created.json as { token: string }).token }
}

function send(event: unknown) {
  return call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: event })
}

function appliedOrder(subscriptionId: string): number[] {
  return t.logs
    .filter((l) => l.msg === 'subscription event applied' && l.subscriptionId === subscriptionId)
    .map((l) => l.sequenceNumber as number)
}

describe('subscription events', () => {
  it('out of order (3 before 2) are applied in sequenceNumber order and end in the right state', async () => {
    const { userId } = await newUser()
    const subscriptionId = randomUuid()
    const event = (type: SubscriptionEventType, sequenceNumber: number) =>
      buildSubscriptionEvent(type, { subscriptionId, sequenceNumber, userId })

    expect((await send(event('SubscriptionCreated', 1))).status).toBe(200)
    // Renewed after Terminated re-activates; applied the other way round it would end TERMINATED.
    const early = send(event('SubscriptionRenewed', 3))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const late = await send(event('SubscriptionTerminated', 2))
    expect(late.status).toBe(200)
    expect((await early).status).toBe(200)

    expect(appliedOrder(subscriptionId)).toEqual([1, 2, 3])
    expect(await t.server.repos.subscriptions.get(userId, subscriptionId)).toMatchObject({
      state: 'ACTIVATED',
      lastSequenceNumber: 3,
    })
  })

  it('duplicates are acknowledged and not applied again', async () => {
    const { userId, token } = await newUser()
    const subscriptionId = randomUuid()
    const created = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId,
      sequenceNumber: 1,
      userId,
    })
    const activated = buildSubscriptionEvent('SubscriptionActivated', {
      subscriptionId,
      sequenceNumber: 2,
      userId,
    })
    expect((await send(created)).status).toBe(200)
    expect((await send(activated)).status).toBe(200)
    const terminal = { userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid(), token }
    const before = trpcData(await proxied(t.url, '/trpc/account.state', terminal))
    const rows = await rowCounts(t.server)
    const runs = t.handled.get('subscriptionEvent')

    const answers = await Promise.all([send(created), send(activated), send(created)])
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])

    expect(t.handled.get('subscriptionEvent')).toBe(runs)
    expect(await rowCounts(t.server)).toEqual(rows)
    expect(trpcData(await proxied(t.url, '/trpc/account.state', terminal))).toEqual(before)
    expect(before).toMatchObject({
      subscriptions: [{ subscriptionId, state: 'ACTIVATED', lastSequenceNumber: 2 }],
    })
  })

  it('an event whose predecessor does not come within the hold is not acknowledged until it does', async () => {
    const { userId } = await newUser()
    const subscriptionId = randomUuid()
    const event = (type: SubscriptionEventType, sequenceNumber: number) =>
      buildSubscriptionEvent(type, { subscriptionId, sequenceNumber, userId })
    expect((await send(event('SubscriptionCreated', 1))).status).toBe(200)

    const tooEarly = await send(event('SubscriptionTerminated', 3))
    expect(tooEarly.status).toBe(503)
    expect(tooEarly.headers.get('retry-after')).toBe('60')
    expect((await t.server.repos.subscriptions.get(userId, subscriptionId))?.lastSequenceNumber).toBe(1)

    expect((await send(event('SubscriptionActivated', 2))).status).toBe(200)
    expect((await send(event('SubscriptionTerminated', 3))).status).toBe(200)
    expect(appliedOrder(subscriptionId)).toEqual([1, 2, 3])
    expect((await t.server.repos.subscriptions.get(userId, subscriptionId))?.state).toBe('TERMINATED')
  })
  it('an event of an unknown type or with a broken field is acknowledged, kept in order and stored', async () => {
    const { userId } = await newUser()
    const subscriptionId = randomUuid()
    const created = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId,
      sequenceNumber: 1,
      userId,
    })
    // planId is required by the schema; the creation still happened.
    const { planId: _planId, ...withoutPlan } = created
    expect((await send(withoutPlan)).status).toBe(200)
    const cancelled = {
      ...buildSubscriptionEvent('SubscriptionTerminated', { subscriptionId, sequenceNumber: 2, userId }),
      type: 'SubscriptionCancelled',
    }
    expect((await send(cancelled)).status).toBe(200)
    expect(
      (
        await send(
          buildSubscriptionEvent('SubscriptionActivated', { subscriptionId, sequenceNumber: 3, userId }),
        )
      ).status,
    ).toBe(200)

    expect(await t.server.repos.subscriptions.get(userId, subscriptionId)).toMatchObject({
      state: 'ACTIVATED',
      lastSequenceNumber: 3,
    })
    const history = await t.server.data.db
      .selectFrom('subscription_events')
      .select(['sequence_number', 'type'])
      .where('subscription_id', '=', subscriptionId)
      .orderBy('sequence_number')
      .execute()
    expect(history).toEqual([
      { sequence_number: 1, type: 'SubscriptionCreated' },
      { sequence_number: 2, type: 'SubscriptionCancelled' },
      { sequence_number: 3, type: 'SubscriptionActivated' },
    ])
  })
})

describe('receipts and inventory', () => {
  it('a duplicated receipt is stored and counted once', async () => {
    const { userId, token } = await newUser()
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const receipt = buildReceipt({ userId, storeUuid, deviceUuid })
    const answers = await Promise.all(
      [receipt, receipt, [receipt]].map((body) =>
        call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body }),
      ),
    )
    // A concurrent copy may find the first still running: 503 means "send it again" (protocol §5.1).
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true)
    expect(
      (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt })).status,
    ).toBe(200)

    const summary = await proxied(t.url, '/trpc/store.summary', { userId, storeUuid, deviceUuid, token })
    expect(trpcData(summary)).toMatchObject({ count: 1, total: '89.90' })
    const stored = await t.server.data.db
      .selectFrom('receipts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow()
    expect(Number(stored.n)).toBe(1)
  })

  it('a store renamed A -> B -> A ends as A (upserts are re-applied, not de-duplicated by body)', async () => {
    const { userId, token } = await newUser()
    const storeUuid = randomEvotorUuid()
    for (const name of ['A', 'B', 'A']) {
      const answer = await call(t.url, 'PUT', '/api/v1/inventories/stores', {
        auth: bearer(token),
        body: buildStores({ storeUuid, name }),
      })
      expect(answer.status).toBe(200)
    }
    expect((await t.server.repos.inventory.getStore(userId, storeUuid))?.name).toBe('A')
  })
})
