/**
 * Subscription events (protocol §6.5) and installation events (§6.6): discriminated on `type`,
 * each with an open "unknown" member so that new event types are acknowledged, not rejected
 * (§11 A20: a 400 would cause three days of retries).
 */
import { z } from 'zod'
import {
  DecimalSchema,
  EvotorDateTimeSchema,
  EvotorIdSchema,
  EvotorInstantSchema,
  IntegerLikeSchema,
  NumberOrStringSchema,
  openUnion,
} from './ids.js'

/**
 * The documented subscription event types, PascalCase as in the schema (protocol §6.5, §11 A19).
 *
 * @example
 * ```ts
 * SUBSCRIPTION_EVENT_TYPES.includes(event.type) // false only for UNKNOWN_TYPE
 * ```
 */
export const SUBSCRIPTION_EVENT_TYPES = [
  'SubscriptionCreated',
  'AddonsUpdated',
  'SubscriptionActivated',
  'SubscriptionRenewed',
  'SubscriptionTermsChanged',
  'SubscriptionTerminationRequested',
  'SubscriptionTerminated',
] as const

/**
 * One of {@link SUBSCRIPTION_EVENT_TYPES}.
 *
 * @example
 * ```ts
 * const t: SubscriptionEventType = 'SubscriptionRenewed'
 * ```
 */
export type SubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number]

const TRIAL_PERIOD = /^P(\d+)DT?$/

/**
 * Schema of `trialPeriodDuration` (protocol §11 A40): `PnDT` (`P14DT`), `PnD`, or a plain number
 * of days (number or digit string, from an older draft). Kept as received; see
 * {@link parseTrialPeriodDays}.
 *
 * @example
 * ```ts
 * TrialPeriodSchema.parse('P14DT') // 'P14DT'
 * ```
 */
export const TrialPeriodSchema: z.ZodType<string | number, string | number> = z.union([
  z.int().nonnegative(),
  z.string().regex(/^(?:P\d+DT?|\d+)$/),
])

/**
 * Number of trial days in a `trialPeriodDuration` value (`'P14DT'` -> 14, `14` -> 14). Throws a
 * `RangeError` for other values.
 *
 * @example
 * ```ts
 * parseTrialPeriodDays('P14DT') // 14
 * ```
 */
export function parseTrialPeriodDays(value: string | number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value
  if (typeof value === 'string') {
    const match = TRIAL_PERIOD.exec(value) ?? /^(\d+)$/.exec(value)
    if (match?.[1] !== undefined) return Number(match[1])
  }
  throw new RangeError('Not a trial period duration')
}

/**
 * `chargedSum` of subscription events: `{ amount, currency }` (protocol §6.5).
 *
 * @example
 * ```ts
 * ChargedSumSchema.parse({ amount: 2416.67, currency: 'RUB' })
 * ```
 */
export const ChargedSumSchema = z.looseObject({
  amount: DecimalSchema,
  currency: z.string().nullish(),
})

/**
 * A charged sum: `amount` is a {@link Decimal}.
 *
 * @example
 * ```ts
 * const sum: ChargedSum = { amount: '2416.67', currency: 'RUB' }
 * ```
 */
export type ChargedSum = z.output<typeof ChargedSumSchema>

const common = {
  subscriptionId: EvotorIdSchema,
  productId: EvotorIdSchema,
  userId: EvotorIdSchema,
  timestamp: EvotorDateTimeSchema,
  sequenceNumber: IntegerLikeSchema,
}

/**
 * `SubscriptionCreated`: the user installed the app (protocol §6.5).
 *
 * @example
 * ```ts
 * SubscriptionCreatedEventSchema.parse(body).planId
 * ```
 */
export const SubscriptionCreatedEventSchema = z.looseObject({
  ...common,
  type: z.literal('SubscriptionCreated'),
  planId: z.string(),
  trialPeriodDuration: TrialPeriodSchema,
  deviceNumber: IntegerLikeSchema.nullish(),
})

/**
 * `AddonsUpdated`: paid options chosen (protocol §6.5).
 *
 * @example
 * ```ts
 * AddonsUpdatedEventSchema.parse(body).addons.map((a) => a.id) // string | undefined: neither field is required
 * ```
 */
export const AddonsUpdatedEventSchema = z.looseObject({
  ...common,
  type: z.literal('AddonsUpdated'),
  // The addon definition in [API] requires neither field (protocol §6.5): an item with only `id`
  // or only `quantity` still reaches the handler (null is absent, §5.2).
  addons: z.array(z.looseObject({ id: z.string().nullish(), quantity: IntegerLikeSchema.nullish() })),
})

/**
 * `SubscriptionActivated`: a successful first payment (protocol §6.5).
 *
 * @example
 * ```ts
 * SubscriptionActivatedEventSchema.parse(body).nextBillingDate
 * ```
 */
export const SubscriptionActivatedEventSchema = z.looseObject({
  ...common,
  type: z.literal('SubscriptionActivated'),
  nextBillingDate: EvotorDateTimeSchema,
  chargedSum: ChargedSumSchema.nullish(),
})

/**
 * `SubscriptionRenewed`: the next period was paid (protocol §6.5).
 *
 * @example
 * ```ts
 * SubscriptionRenewedEventSchema.parse(body).chargedSum?.amount
 * ```
 */
export const SubscriptionRenewedEventSchema = z.looseObject({
  ...common,
  type: z.literal('SubscriptionRenewed'),
  nextBillingDate: EvotorDateTimeSchema,
  chargedSum: ChargedSumSchema.nullish(),
})

/**
 * `SubscriptionTermsChanged`: plan or device count changed; each field only when it changed
 * (protocol §6.5).
 *
 * @example
 * ```ts
 * SubscriptionTermsChangedEventSchema.parse(body).deviceNumber ?? 'unchanged'
 * ```
 */
export const SubscriptionTermsChangedEventSchema = z.looseObject({
  ...common,
  type: z.literal('SubscriptionTermsChanged'),
  planId: z.string().nullish(),
  deviceNumber: IntegerLikeSchema.nullish(),
  nextBillingDate: EvotorDateTimeSchema.nullish(),
  chargedSum: ChargedSumSchema.nullish(),
})

/**
 * `SubscriptionTerminationRequested`: the user removed the app (protocol §6.5).
 *
 * @example
 * ```ts
 * SubscriptionTerminationRequestedEventSchema.parse(body).subscriptionId
 * ```
 */
export const SubscriptionTerminationRequestedEventSchema = z.looseObject({
  ...common,
  type: z.literal('SubscriptionTerminationRequested'),
})

/**
 * `SubscriptionTerminated`: a regular payment failed (protocol §6.5).
 *
 * @example
 * ```ts
 * SubscriptionTerminatedEventSchema.parse(body).userId
 * ```
 */
export const SubscriptionTerminatedEventSchema = z.looseObject({
  ...common,
  type: z.literal('SubscriptionTerminated'),
})

/**
 * The open member: any other `type` (`SubscriptionCancelled`, `trialStarted`, future ones). The
 * common fields are parsed when present so the event can still be keyed and logged.
 */
const UnknownSubscriptionEventSchema = z.looseObject({
  subscriptionId: EvotorIdSchema.nullish(),
  productId: EvotorIdSchema.nullish(),
  userId: EvotorIdSchema.nullish(),
  timestamp: z.string().nullish(),
  sequenceNumber: IntegerLikeSchema.nullish(),
})

function pascalCase(raw: string): string {
  return raw.charAt(0).toUpperCase() + raw.slice(1)
}

/**
 * Body of `POST /api/v1/subscription/event` (protocol §6.5): the seven documented events, matched
 * case-insensitively on the first letter of `type` (§11 A19: `subscriptionCreated` ->
 * `SubscriptionCreated`), and an open member with `type: 'Unknown'` and `rawType` for others.
 *
 * @example
 * ```ts
 * const event = SubscriptionEventSchema.parse(body)
 * if (event.type === 'SubscriptionCreated') console.log(event.planId)
 * ```
 */
export const SubscriptionEventSchema = openUnion(
  'type',
  [
    SubscriptionCreatedEventSchema,
    AddonsUpdatedEventSchema,
    SubscriptionActivatedEventSchema,
    SubscriptionRenewedEventSchema,
    SubscriptionTermsChangedEventSchema,
    SubscriptionTerminationRequestedEventSchema,
    SubscriptionTerminatedEventSchema,
  ],
  UnknownSubscriptionEventSchema,
  { normaliseType: pascalCase },
)

/**
 * A parsed subscription event; narrow it with `event.type`.
 *
 * @example
 * ```ts
 * switch (event.type) { case 'SubscriptionRenewed': extend(event.nextBillingDate); break }
 * ```
 */
export type SubscriptionEvent = z.output<typeof SubscriptionEventSchema>

/**
 * A `SubscriptionCreated` event.
 *
 * @example
 * ```ts
 * const onCreated = (e: SubscriptionCreatedEvent) => e.trialPeriodDuration
 * ```
 */
export type SubscriptionCreatedEvent = z.output<typeof SubscriptionCreatedEventSchema>
/**
 * An `AddonsUpdated` event.
 *
 * @example
 * ```ts
 * const onAddons = (e: AddonsUpdatedEvent) => e.addons.length
 * ```
 */
export type AddonsUpdatedEvent = z.output<typeof AddonsUpdatedEventSchema>
/**
 * A `SubscriptionActivated` event.
 *
 * @example
 * ```ts
 * const onActivated = (e: SubscriptionActivatedEvent) => e.nextBillingDate
 * ```
 */
export type SubscriptionActivatedEvent = z.output<typeof SubscriptionActivatedEventSchema>
/**
 * A `SubscriptionRenewed` event.
 *
 * @example
 * ```ts
 * const onRenewed = (e: SubscriptionRenewedEvent) => e.nextBillingDate
 * ```
 */
export type SubscriptionRenewedEvent = z.output<typeof SubscriptionRenewedEventSchema>
/**
 * A `SubscriptionTermsChanged` event.
 *
 * @example
 * ```ts
 * const onTerms = (e: SubscriptionTermsChangedEvent) => e.planId
 * ```
 */
export type SubscriptionTermsChangedEvent = z.output<typeof SubscriptionTermsChangedEventSchema>
/**
 * A `SubscriptionTerminationRequested` event.
 *
 * @example
 * ```ts
 * const onRequested = (e: SubscriptionTerminationRequestedEvent) => e.subscriptionId
 * ```
 */
export type SubscriptionTerminationRequestedEvent = z.output<
  typeof SubscriptionTerminationRequestedEventSchema
>
/**
 * A `SubscriptionTerminated` event.
 *
 * @example
 * ```ts
 * const onTerminated = (e: SubscriptionTerminatedEvent) => e.subscriptionId
 * ```
 */
export type SubscriptionTerminatedEvent = z.output<typeof SubscriptionTerminatedEventSchema>
/**
 * A subscription event of a type the library does not know (`type: 'Unknown'`, `rawType` kept).
 *
 * @example
 * ```ts
 * const onUnknown = (e: UnknownSubscriptionEvent) => log.warn(e.rawType)
 * ```
 */
export type UnknownSubscriptionEvent = Extract<SubscriptionEvent, { type: 'Unknown' }>

/**
 * The documented installation event types (protocol §6.6).
 *
 * @example
 * ```ts
 * INSTALLATION_EVENT_TYPES[0] // 'ApplicationInstalled'
 * ```
 */
export const INSTALLATION_EVENT_TYPES = ['ApplicationInstalled', 'ApplicationUninstalled'] as const

/**
 * One of {@link INSTALLATION_EVENT_TYPES}.
 *
 * @example
 * ```ts
 * const t: InstallationEventType = 'ApplicationUninstalled'
 * ```
 */
export type InstallationEventType = (typeof INSTALLATION_EVENT_TYPES)[number]

const installationData = z.looseObject({ productId: EvotorIdSchema, userId: EvotorIdSchema })

const installationCommon = {
  id: EvotorIdSchema,
  timestamp: EvotorInstantSchema,
  version: NumberOrStringSchema.nullish(),
  data: installationData,
}

/**
 * `ApplicationInstalled` (protocol §6.6).
 *
 * @example
 * ```ts
 * ApplicationInstalledEventSchema.parse(body).data.userId
 * ```
 */
export const ApplicationInstalledEventSchema = z.looseObject({
  ...installationCommon,
  type: z.literal('ApplicationInstalled'),
})

/**
 * `ApplicationUninstalled` (protocol §6.6).
 *
 * @example
 * ```ts
 * ApplicationUninstalledEventSchema.parse(body).data.productId
 * ```
 */
export const ApplicationUninstalledEventSchema = z.looseObject({
  ...installationCommon,
  type: z.literal('ApplicationUninstalled'),
})

const UnknownInstallationEventSchema = z.looseObject({
  id: EvotorIdSchema.nullish(),
  timestamp: EvotorInstantSchema.nullish(),
  version: NumberOrStringSchema.nullish(),
  data: z.looseObject({ productId: z.string().nullish(), userId: z.string().nullish() }).nullish(),
})

/** The Aug-2017 draft spelled the event id `Id` (protocol §11 A18). */
function installationIdAlias(input: Record<string, unknown>): Record<string, unknown> {
  if ((input.id === undefined || input.id === null) && input.Id !== undefined && input.Id !== null) {
    return { ...input, id: input.Id }
  }
  return input
}

/**
 * Body of `POST /api/v2/installation/event` (protocol §6.6): `ApplicationInstalled`,
 * `ApplicationUninstalled`, or an open member (`type: 'Unknown'`, `rawType`). The draft spelling
 * `Id` is accepted for `id`; `timestamp` may be a number or a string (§11 A18); first letter of
 * `type` matched case-insensitively.
 *
 * @example
 * ```ts
 * const event = InstallationEventSchema.parse(body)
 * if (event.type === 'ApplicationUninstalled') await disable(event.data.userId)
 * ```
 */
export const InstallationEventSchema = openUnion(
  'type',
  [ApplicationInstalledEventSchema, ApplicationUninstalledEventSchema],
  UnknownInstallationEventSchema,
  { normaliseType: pascalCase, prepare: installationIdAlias },
)

/**
 * A parsed installation event; narrow it with `event.type`.
 *
 * @example
 * ```ts
 * const key = (e: InstallationEvent) => e.id
 * ```
 */
export type InstallationEvent = z.output<typeof InstallationEventSchema>

/**
 * An `ApplicationInstalled` event.
 *
 * @example
 * ```ts
 * const onInstalled = (e: ApplicationInstalledEvent) => e.data.userId
 * ```
 */
export type ApplicationInstalledEvent = z.output<typeof ApplicationInstalledEventSchema>
/**
 * An `ApplicationUninstalled` event.
 *
 * @example
 * ```ts
 * const onUninstalled = (e: ApplicationUninstalledEvent) => e.data.userId
 * ```
 */
export type ApplicationUninstalledEvent = z.output<typeof ApplicationUninstalledEventSchema>
/**
 * An installation event of a type the library does not know.
 *
 * @example
 * ```ts
 * const onUnknown = (e: UnknownInstallationEvent) => log.warn(e.rawType)
 * ```
 */
export type UnknownInstallationEvent = Extract<InstallationEvent, { type: 'Unknown' }>
