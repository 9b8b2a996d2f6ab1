import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  InstallationEventSchema,
  parseTrialPeriodDays,
  SUBSCRIPTION_EVENT_TYPES,
  type SubscriptionEvent,
  SubscriptionEventSchema,
  TrialPeriodSchema,
  type UnknownSubscriptionEvent,
} from '../../src/protocol/billing.js'
import type { Decimal } from '../../src/protocol/ids.js'

const common = {
  subscriptionId: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0',
  productId: 'c0d01x35-5193-4cc2-9bfb-be20e0679498',
  userId: '01-000000000000001',
  timestamp: '2017-04-20T18:26:37.753+0000',
  sequenceNumber: 4,
}

describe('SubscriptionEventSchema', () => {
  it('exposes the seven PascalCase types', () => {
    expect(SUBSCRIPTION_EVENT_TYPES).toHaveLength(7)
    expect(SUBSCRIPTION_EVENT_TYPES.every((type) => /^[A-Z]/.test(type))).toBe(true)
  })

  it('normalises lower-camel types (A19) and keeps unknown fields', () => {
    const event = SubscriptionEventSchema.parse({
      ...common,
      type: 'subscriptionCreated',
      planId: 'example',
      trialPeriodDuration: 'P14DT',
      deviceNumber: 35,
      futureField: { x: 1 },
    })
    expect(event.type).toBe('SubscriptionCreated')
    expect(event.futureField).toEqual({ x: 1 })
  })

  it('parses an unknown type into the open member, with the keys the dispatcher needs', () => {
    const event = SubscriptionEventSchema.parse({
      type: 'SubscriptionCancelled',
      subscriptionId: 's-1',
      sequenceNumber: '9',
    })
    expect(event).toMatchObject({
      type: 'Unknown',
      rawType: 'SubscriptionCancelled',
      subscriptionId: 's-1',
      sequenceNumber: 9,
    })
  })

  it('still rejects a known type with a missing required field', () => {
    const result = SubscriptionEventSchema.safeParse({ ...common, type: 'SubscriptionActivated' })
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['nextBillingDate'])
  })

  it('keeps chargedSum.amount as given (decimal-safe)', () => {
    const event = SubscriptionEventSchema.parse({
      ...common,
      type: 'SubscriptionRenewed',
      nextBillingDate: '2017-04-23T00:48:38.000+0000',
      chargedSum: { amount: '2416.67', currency: 'RUB' },
    })
    expect(event.type === 'SubscriptionRenewed' && event.chargedSum?.amount).toBe('2416.67')
  })

  it('accepts an integer trial period (A40)', () => {
    expect(TrialPeriodSchema.parse(14)).toBe(14)
    expect(TrialPeriodSchema.safeParse('14 days').success).toBe(false)
    expect(parseTrialPeriodDays('P14DT')).toBe(14)
    expect(parseTrialPeriodDays('P7D')).toBe(7)
    expect(parseTrialPeriodDays(30)).toBe(30)
    expect(() => parseTrialPeriodDays('P1M')).toThrow(RangeError)
  })

  it('types: narrowing on type gives the member fields', () => {
    const event = {} as SubscriptionEvent
    if (event.type === 'SubscriptionCreated') {
      expectTypeOf(event.planId).toEqualTypeOf<string>()
      expectTypeOf(event.trialPeriodDuration).toEqualTypeOf<string | number>()
    }
    if (event.type === 'AddonsUpdated')
      expectTypeOf(event.addons[0]!.quantity).toEqualTypeOf<number | null | undefined>()
    if (event.type === 'SubscriptionActivated') {
      expectTypeOf(event.chargedSum).toEqualTypeOf<
        { amount: Decimal; currency?: string | null | undefined; [k: string]: unknown } | null | undefined
      >()
    }
    expectTypeOf<UnknownSubscriptionEvent['rawType']>().toEqualTypeOf<string>()
    expectTypeOf<UnknownSubscriptionEvent['sequenceNumber']>().toEqualTypeOf<number | null | undefined>()
    expectTypeOf<SubscriptionEvent['type']>().toEqualTypeOf<
      (typeof SUBSCRIPTION_EVENT_TYPES)[number] | 'Unknown'
    >()
  })
})

describe('InstallationEventSchema', () => {
  const base = {
    timestamp: 1504168645290,
    version: 2,
    data: { productId: 'app', userId: '01-000000000000001' },
  }

  it('accepts the draft spelling Id (A18) and a string timestamp', () => {
    const event = InstallationEventSchema.parse({
      ...base,
      Id: 'e-1',
      timestamp: '1504168645290',
      type: 'ApplicationInstalled',
    })
    expect(event.id).toBe('e-1')
    expect(event.timestamp).toBe('1504168645290')
  })

  it('prefers id over Id and never mutates the input', () => {
    const input = { ...base, id: 'e-1', Id: 'e-2', type: 'applicationUninstalled' }
    const event = InstallationEventSchema.parse(input)
    expect(event).toMatchObject({ id: 'e-1', type: 'ApplicationUninstalled' })
    expect(input.type).toBe('applicationUninstalled')
  })

  it('parses unknown types into the open member', () => {
    const event = InstallationEventSchema.parse({ ...base, id: 'e-3', type: 'ApplicationUpdated' })
    expect(event).toMatchObject({ type: 'Unknown', rawType: 'ApplicationUpdated', id: 'e-3' })
  })

  it('requires data.userId on known types', () => {
    const result = InstallationEventSchema.safeParse({
      ...base,
      id: 'e',
      type: 'ApplicationInstalled',
      data: {},
    })
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'data.productId',
      'data.userId',
    ])
  })
})
