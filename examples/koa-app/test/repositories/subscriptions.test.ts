import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createRepositories,
  MAX_STORED_EVENT_CHARS,
  type SubscriptionEventInput,
} from '../../src/repositories/index.js'
import { createTestDb, fixture, type TestDb } from '../helpers.js'

const SUB = 'a99fbf70-6307-4acc-b61c-741ee9eef6c0'
const USER = '01-000000000000001'

function event(
  type: string,
  sequenceNumber: number,
  extra: Record<string, unknown> = {},
): SubscriptionEventInput {
  const base = fixture<Record<string, unknown>>(
    `assembled/partner_v1_subscription_event.POST.request.${type}.json`,
  )
  return { ...base, ...extra, subscriptionId: SUB, userId: USER, type, sequenceNumber }
}

let t: TestDb
beforeEach(async () => {
  t = await createTestDb()
})
afterEach(async () => {
  await t.cleanup()
})

describe('subscriptions.applyEvent (protocol §6.5 state machine)', () => {
  it('follows created -> activated -> terminated -> renewed', async () => {
    const subs = t.repos.subscriptions
    const created = (await subs.applyEvent(USER, event('SubscriptionCreated', 1))).subscription
    expect(created).toMatchObject({
      state: 'CREATED',
      userId: USER,
      planId: 'example',
      deviceNumber: 35,
      trialPeriodDuration: 'P14DT',
      lastSequenceNumber: 1,
      terminationRequested: false,
    })
    const activated = (await subs.applyEvent(USER, event('SubscriptionActivated', 2))).subscription
    expect(activated.state).toBe('ACTIVATED')
    expect(activated.nextBillingDate).toBe('2017-04-23T00:48:38.000Z')
    expect((await subs.applyEvent(USER, event('SubscriptionTerminated', 3))).subscription.state).toBe(
      'TERMINATED',
    )
    const renewed = (
      await subs.applyEvent(
        USER,
        event('SubscriptionRenewed', 4, { nextBillingDate: '2017-05-23T00:48:38.000+0000' }),
      )
    ).subscription
    expect(renewed.state).toBe('ACTIVATED')
    expect(renewed.nextBillingDate).toBe('2017-05-23T00:48:38.000Z')
    expect(renewed.lastEvent.type).toBe('SubscriptionRenewed')
  })

  it('terminates straight from CREATED (unpaid trial) and keeps the state on Activated afterwards', async () => {
    const subs = t.repos.subscriptions
    await subs.applyEvent(USER, event('SubscriptionCreated', 1))
    expect((await subs.applyEvent(USER, event('SubscriptionTerminated', 2))).subscription.state).toBe(
      'TERMINATED',
    )
    expect((await subs.applyEvent(USER, event('SubscriptionActivated', 3))).subscription.state).toBe(
      'TERMINATED',
    )
  })

  it('TermsChanged updates plan and devices, TerminationRequested sets the flag, AddonsUpdated stores addons', async () => {
    const subs = t.repos.subscriptions
    await subs.applyEvent(USER, event('SubscriptionCreated', 1))
    await subs.applyEvent(USER, event('SubscriptionActivated', 2))
    const changed = (
      await subs.applyEvent(USER, event('SubscriptionTermsChanged', 3, { planId: 'pro', deviceNumber: 3 }))
    ).subscription
    expect(changed).toMatchObject({ state: 'ACTIVATED', planId: 'pro', deviceNumber: 3 })
    const partial = await subs.applyEvent(USER, {
      subscriptionId: SUB,
      userId: USER,
      type: 'SubscriptionTermsChanged',
      sequenceNumber: 4,
      deviceNumber: 5,
    })
    expect(partial.subscription).toMatchObject({ planId: 'pro', deviceNumber: 5 })
    const requested = (await subs.applyEvent(USER, event('SubscriptionTerminationRequested', 5))).subscription
    expect(requested).toMatchObject({ state: 'ACTIVATED', terminationRequested: true })
    const addons = (
      await subs.applyEvent(USER, event('AddonsUpdated', 6, { addons: [{ id: 'extra', quantity: 2 }] }))
    ).subscription
    expect(addons.addons).toEqual([{ id: 'extra', quantity: 2 }])
    expect(
      (await subs.applyEvent(USER, event('SubscriptionRenewed', 7))).subscription.terminationRequested,
    ).toBe(false)
  })

  it('ignores duplicates: a re-delivered event changes nothing', async () => {
    const subs = t.repos.subscriptions
    await subs.applyEvent(USER, event('SubscriptionCreated', 1))
    await subs.applyEvent(USER, event('SubscriptionActivated', 2))
    await subs.applyEvent(USER, event('SubscriptionTerminated', 3))
    const again = await subs.applyEvent(USER, event('SubscriptionActivated', 2))
    expect(again.duplicate).toBe(true)
    expect(again.subscription.state).toBe('TERMINATED')
    expect((await subs.get(USER, SUB))?.lastSequenceNumber).toBe(3)
  })

  it('ends in the in-order state whatever the arrival order', async () => {
    const order = [
      event('SubscriptionCreated', 1),
      event('SubscriptionActivated', 2),
      event('SubscriptionTermsChanged', 3, { planId: 'pro', deviceNumber: 2 }),
      event('SubscriptionTerminated', 4),
      event('SubscriptionRenewed', 5),
    ]
    const permutations = [
      [4, 3, 2, 1, 0],
      [1, 0, 3, 2, 4],
      [2, 4, 0, 1, 3, 1, 4],
    ]
    const inOrder = await (async () => {
      for (const e of order) await t.repos.subscriptions.applyEvent(USER, e)
      return await t.repos.subscriptions.get(USER, SUB)
    })()
    expect(inOrder).toMatchObject({
      state: 'ACTIVATED',
      planId: 'pro',
      deviceNumber: 2,
      lastSequenceNumber: 5,
    })
    for (const [i, permutation] of permutations.entries()) {
      const id = `sub-${i}`
      for (const index of permutation) {
        const e = order[index]
        if (e) await t.repos.subscriptions.applyEvent(USER, { ...e, subscriptionId: id })
      }
      const got = await t.repos.subscriptions.get(USER, id)
      expect(got).toMatchObject({ state: 'ACTIVATED', planId: 'pro', deviceNumber: 2, lastSequenceNumber: 5 })
      expect(got?.lastEvent.type).toBe('SubscriptionRenewed')
    }
  })

  it('accepts lower-camel type names and stores unknown types without a state change', async () => {
    const subs = t.repos.subscriptions
    const created = await subs.applyEvent(USER, {
      ...event('SubscriptionCreated', 1),
      type: 'subscriptionCreated',
    })
    expect(created.known).toBe(true)
    expect(created.subscription.state).toBe('CREATED')
    const unknown = await subs.applyEvent(USER, {
      subscriptionId: SUB,
      userId: USER,
      type: 'SubscriptionCancelled',
      sequenceNumber: 2,
    })
    expect(unknown).toMatchObject({ known: false, duplicate: false })
    expect(unknown.subscription).toMatchObject({ state: 'CREATED', lastSequenceNumber: 2 })
  })

  it('survives a restart and lists per user', async () => {
    await t.repos.subscriptions.applyEvent(USER, event('SubscriptionCreated', 1))
    await t.repos.subscriptions.applyEvent(USER, event('SubscriptionActivated', 2))
    await t.reopen()
    expect((await t.repos.subscriptions.get(USER, SUB.toUpperCase()))?.state).toBe('ACTIVATED')
    expect((await t.repos.subscriptions.applyEvent(USER, event('SubscriptionActivated', 2))).duplicate).toBe(
      true,
    )
    expect((await t.repos.subscriptions.listForUser(USER)).map((s) => s.subscriptionId)).toEqual([SUB])
  })

  it('rejects a non-integer sequence number', async () => {
    await expect(t.repos.subscriptions.applyEvent(USER, event('SubscriptionCreated', 1.5))).rejects.toThrow(
      TypeError,
    )
  })

  it('caps the history: past the limit events are applied but not stored; a late one is then stale', async () => {
    const subs = createRepositories({
      data: t.db,
      now: t.clock.now,
      subscriptionHistoryLimit: 3,
    }).subscriptions
    await subs.applyEvent(USER, event('SubscriptionCreated', 1))
    await subs.applyEvent(USER, event('SubscriptionActivated', 2))
    // 4 before 3 (a gap): applied in order; the history (1, 2, 4) is now full.
    await subs.applyEvent(USER, event('SubscriptionTermsChanged', 4, { planId: 'pro', deviceNumber: 4 }))
    const full = await subs.applyEvent(
      USER,
      event('SubscriptionTermsChanged', 5, { planId: 'pro', deviceNumber: 5 }),
    )
    expect(full.subscription).toMatchObject({ planId: 'pro', deviceNumber: 5, lastSequenceNumber: 5 })
    const late = await subs.applyEvent(USER, event('SubscriptionTerminated', 3))
    expect(late).toMatchObject({ stale: true, duplicate: false })
    expect(late.subscription).toMatchObject({ state: 'ACTIVATED', lastSequenceNumber: 5 })
    const stored = await t.db.db
      .selectFrom('subscription_events')
      .select('sequence_number')
      .where('subscription_id', '=', SUB)
      .orderBy('sequence_number')
      .execute()
    expect(stored.map((r) => Number(r.sequence_number))).toEqual([1, 2, 4])
    // Still applied in order past the limit.
    expect((await subs.applyEvent(USER, event('SubscriptionTerminated', 6))).subscription.state).toBe(
      'TERMINATED',
    )
    expect((await subs.applyEvent(USER, event('SubscriptionTerminated', 6))).duplicate).toBe(true)
  })

  it('keeps a padded event as its known fields, within the size bound', async () => {
    const big = event('SubscriptionCreated', 1, { padding: 'x'.repeat(100_000), planId: 'y'.repeat(300) })
    const { subscription } = await t.repos.subscriptions.applyEvent(USER, big)
    expect(subscription).toMatchObject({ state: 'CREATED', deviceNumber: 35, planId: null })
    expect(JSON.stringify(subscription.lastEvent).length).toBeLessThanOrEqual(MAX_STORED_EVENT_CHARS)
    expect(subscription.lastEvent).toMatchObject({ truncated: true, subscriptionId: SUB, sequenceNumber: 1 })
  })
})
