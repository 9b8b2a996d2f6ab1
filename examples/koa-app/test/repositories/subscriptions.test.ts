import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SubscriptionEventInput } from '../../src/repositories/index.js'
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
beforeEach(() => {
  t = createTestDb()
})
afterEach(() => t.cleanup())

describe('subscriptions.applyEvent (protocol §6.5 state machine)', () => {
  it('follows created -> activated -> terminated -> renewed', () => {
    const subs = t.repos.subscriptions
    const created = subs.applyEvent(USER, event('SubscriptionCreated', 1)).subscription
    expect(created).toMatchObject({
      state: 'CREATED',
      userId: USER,
      planId: 'example',
      deviceNumber: 35,
      trialPeriodDuration: 'P14DT',
      lastSequenceNumber: 1,
      terminationRequested: false,
    })
    const activated = subs.applyEvent(USER, event('SubscriptionActivated', 2)).subscription
    expect(activated.state).toBe('ACTIVATED')
    expect(activated.nextBillingDate).toBe('2017-04-23T00:48:38.000Z')
    expect(subs.applyEvent(USER, event('SubscriptionTerminated', 3)).subscription.state).toBe('TERMINATED')
    const renewed = subs.applyEvent(
      USER,
      event('SubscriptionRenewed', 4, { nextBillingDate: '2017-05-23T00:48:38.000+0000' }),
    ).subscription
    expect(renewed.state).toBe('ACTIVATED')
    expect(renewed.nextBillingDate).toBe('2017-05-23T00:48:38.000Z')
    expect(renewed.lastEvent.type).toBe('SubscriptionRenewed')
  })

  it('terminates straight from CREATED (unpaid trial) and keeps the state on Activated afterwards', () => {
    const subs = t.repos.subscriptions
    subs.applyEvent(USER, event('SubscriptionCreated', 1))
    expect(subs.applyEvent(USER, event('SubscriptionTerminated', 2)).subscription.state).toBe('TERMINATED')
    expect(subs.applyEvent(USER, event('SubscriptionActivated', 3)).subscription.state).toBe('TERMINATED')
  })

  it('TermsChanged updates plan and devices, TerminationRequested sets the flag, AddonsUpdated stores addons', () => {
    const subs = t.repos.subscriptions
    subs.applyEvent(USER, event('SubscriptionCreated', 1))
    subs.applyEvent(USER, event('SubscriptionActivated', 2))
    const changed = subs.applyEvent(
      USER,
      event('SubscriptionTermsChanged', 3, { planId: 'pro', deviceNumber: 3 }),
    ).subscription
    expect(changed).toMatchObject({ state: 'ACTIVATED', planId: 'pro', deviceNumber: 3 })
    const partial = subs.applyEvent(USER, {
      subscriptionId: SUB,
      userId: USER,
      type: 'SubscriptionTermsChanged',
      sequenceNumber: 4,
      deviceNumber: 5,
    })
    expect(partial.subscription).toMatchObject({ planId: 'pro', deviceNumber: 5 })
    const requested = subs.applyEvent(USER, event('SubscriptionTerminationRequested', 5)).subscription
    expect(requested).toMatchObject({ state: 'ACTIVATED', terminationRequested: true })
    const addons = subs.applyEvent(
      USER,
      event('AddonsUpdated', 6, { addons: [{ id: 'extra', quantity: 2 }] }),
    ).subscription
    expect(addons.addons).toEqual([{ id: 'extra', quantity: 2 }])
    expect(subs.applyEvent(USER, event('SubscriptionRenewed', 7)).subscription.terminationRequested).toBe(
      false,
    )
  })

  it('ignores duplicates: a re-delivered event changes nothing', () => {
    const subs = t.repos.subscriptions
    subs.applyEvent(USER, event('SubscriptionCreated', 1))
    subs.applyEvent(USER, event('SubscriptionActivated', 2))
    subs.applyEvent(USER, event('SubscriptionTerminated', 3))
    const again = subs.applyEvent(USER, event('SubscriptionActivated', 2))
    expect(again.duplicate).toBe(true)
    expect(again.subscription.state).toBe('TERMINATED')
    expect(subs.get(USER, SUB)?.lastSequenceNumber).toBe(3)
  })

  it('ends in the in-order state whatever the arrival order', () => {
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
    const inOrder = (() => {
      for (const e of order) t.repos.subscriptions.applyEvent(USER, e)
      return t.repos.subscriptions.get(USER, SUB)
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
        if (e) t.repos.subscriptions.applyEvent(USER, { ...e, subscriptionId: id })
      }
      const got = t.repos.subscriptions.get(USER, id)
      expect(got).toMatchObject({ state: 'ACTIVATED', planId: 'pro', deviceNumber: 2, lastSequenceNumber: 5 })
      expect(got?.lastEvent.type).toBe('SubscriptionRenewed')
    }
  })

  it('accepts lower-camel type names and stores unknown types without a state change', () => {
    const subs = t.repos.subscriptions
    const created = subs.applyEvent(USER, { ...event('SubscriptionCreated', 1), type: 'subscriptionCreated' })
    expect(created.known).toBe(true)
    expect(created.subscription.state).toBe('CREATED')
    const unknown = subs.applyEvent(USER, {
      subscriptionId: SUB,
      userId: USER,
      type: 'SubscriptionCancelled',
      sequenceNumber: 2,
    })
    expect(unknown).toMatchObject({ known: false, duplicate: false })
    expect(unknown.subscription).toMatchObject({ state: 'CREATED', lastSequenceNumber: 2 })
  })

  it('survives a restart and lists per user', () => {
    t.repos.subscriptions.applyEvent(USER, event('SubscriptionCreated', 1))
    t.repos.subscriptions.applyEvent(USER, event('SubscriptionActivated', 2))
    t.reopen()
    expect(t.repos.subscriptions.get(USER, SUB.toUpperCase())?.state).toBe('ACTIVATED')
    expect(t.repos.subscriptions.applyEvent(USER, event('SubscriptionActivated', 2)).duplicate).toBe(true)
    expect(t.repos.subscriptions.listForUser(USER).map((s) => s.subscriptionId)).toEqual([SUB])
  })

  it('rejects a non-integer sequence number', () => {
    expect(() => t.repos.subscriptions.applyEvent(USER, event('SubscriptionCreated', 1.5))).toThrow(TypeError)
  })
})
