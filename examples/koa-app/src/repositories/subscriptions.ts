import { toIsoUtc } from '../util/time.js'
import {
  type JsonObject,
  numberField,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'

/** Subscription states of protocol §6.5 (`UNKNOWN` until a state-setting event arrives). */
export type SubscriptionState = 'CREATED' | 'ACTIVATED' | 'TERMINATED' | 'UNKNOWN'

/** A subscription event as received (protocol §6.5); unknown fields are kept in `raw`. */
export interface SubscriptionEventInput {
  readonly subscriptionId: string
  readonly userId: string
  readonly sequenceNumber: number
  readonly type: string
  readonly productId?: unknown
  readonly timestamp?: unknown
  readonly planId?: unknown
  readonly deviceNumber?: unknown
  readonly trialPeriodDuration?: unknown
  readonly nextBillingDate?: unknown
  readonly chargedSum?: unknown
  readonly addons?: unknown
}

/** One paid option of a subscription. */
export interface SubscriptionAddon {
  readonly id: string
  readonly quantity: number
}

/** The current state of one subscription, folded from its events. */
export interface Subscription {
  readonly subscriptionId: string
  readonly userId: string
  readonly productId: string | null
  readonly planId: string | null
  readonly deviceNumber: number | null
  readonly trialPeriodDuration: string | null
  readonly state: SubscriptionState
  readonly terminationRequested: boolean
  /** ISO-8601 UTC. */
  readonly nextBillingDate: string | null
  readonly addons: readonly SubscriptionAddon[] | null
  readonly lastSequenceNumber: number
  /** The event with the highest sequence number, as received. */
  readonly lastEvent: JsonObject
  readonly updatedAt: string
}

/** Result of {@link SubscriptionsRepository.applyEvent}. */
export interface ApplySubscriptionEventResult {
  /** `true` when this (subscriptionId, sequenceNumber) was already stored: nothing changed. */
  readonly duplicate: boolean
  /** `false` for types this app does not know (stored, no state change; protocol §11 A20). */
  readonly known: boolean
  /**
   * `true` when the event was older than the state and the history was full, so that it could not
   * be folded in: acknowledged, not applied (as the library's sequencer does after a skipped gap).
   */
  readonly stale: boolean
  readonly subscription: Subscription
}

/** Subscriptions and their events, per user: two users may own the same subscription id. */
export interface SubscriptionsRepository {
  /**
   * Stores the event once, under `userId` (the verified user of the request; the event's own
   * `userId` is not trusted for ownership), and updates that user's subscription. An event newer
   * than the stored state (the usual case: the dispatcher hands events over in order) is applied
   * to the state directly: one row read, whatever the length of the history. An older one
   * (delivered after a later one) is folded in by replaying the stored history in
   * `sequenceNumber` order, so duplicates and out-of-order deliveries end in the same state as
   * in-order delivery; that replay reads at most {@link SUBSCRIPTION_HISTORY_LIMIT} events. The
   * history is append-only and capped: past the limit, events are still applied in order but no
   * longer stored, and an event older than the state is then acknowledged without a change
   * (`stale`). Another user's subscription with the same id is never read or changed.
   */
  applyEvent(userId: string, event: SubscriptionEventInput): Promise<ApplySubscriptionEventResult>
  get(userId: string, subscriptionId: string): Promise<Subscription | undefined>
  listForUser(userId: string): Promise<Subscription[]>
}

/**
 * Events kept per subscription in `subscription_events` (about 80 years of monthly renewals). It
 * bounds what a late event's replay reads; past it, events are applied but not stored.
 */
export const SUBSCRIPTION_HISTORY_LIMIT = 1000

/**
 * Longest event kept as received, in characters of JSON. Real events are well under 1 KB; a
 * larger one is kept as its known fields only (see {@link storedForm}), so that neither the
 * history nor `lastEvent` grows with what a sender pads an event with.
 */
export const MAX_STORED_EVENT_CHARS = 16_384

/** Known fields are kept up to this length when an event is too large to keep whole. */
const MAX_KEPT_STRING = 256
/** Addons kept per subscription (real subscriptions have a handful). */
const MAX_ADDONS = 100

/** The event types of protocol §6.5, PascalCase. */
export const SUBSCRIPTION_EVENT_TYPES = [
  'SubscriptionCreated',
  'SubscriptionActivated',
  'SubscriptionRenewed',
  'SubscriptionTermsChanged',
  'SubscriptionTerminationRequested',
  'SubscriptionTerminated',
  'AddonsUpdated',
] as const

/** One of {@link SUBSCRIPTION_EVENT_TYPES}. */
export type SubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number]

/**
 * Maps `subscriptionCreated` (prose spelling) to `SubscriptionCreated` (protocol §11 A19);
 * `undefined` for unknown types.
 *
 * @example
 * ```ts
 * normalizeSubscriptionEventType('subscriptionActivated') // 'SubscriptionActivated'
 * ```
 */
export function normalizeSubscriptionEventType(type: string): SubscriptionEventType | undefined {
  const pascal = type.charAt(0).toUpperCase() + type.slice(1)
  return SUBSCRIPTION_EVENT_TYPES.find((known) => known === pascal)
}

interface Folded {
  productId: string | null
  planId: string | null
  deviceNumber: number | null
  trialPeriodDuration: string | null
  state: SubscriptionState
  terminationRequested: boolean
  nextBillingDate: string | null
  addons: SubscriptionAddon[] | null
}

function parseAddons(value: unknown): SubscriptionAddon[] | null {
  if (!Array.isArray(value)) return null
  const addons: SubscriptionAddon[] = []
  for (const item of value) {
    if (addons.length === MAX_ADDONS) break
    if (item === null || typeof item !== 'object') continue
    const addon = item as JsonObject
    const id = stringField(addon, 'id')
    if (id !== null) addons.push({ id, quantity: numberField(addon, 'quantity') ?? 0 })
  }
  return addons
}

// State machine of protocol §6.5: CREATED –Activated→ ACTIVATED; CREATED/ACTIVATED –Terminated→
// TERMINATED; TERMINATED –Renewed→ ACTIVATED; TermsChanged / TerminationRequested keep the state.
function step(current: Folded, event: JsonObject): void {
  const type = normalizeSubscriptionEventType(stringField(event, 'type') ?? '')
  current.productId = stringField(event, 'productId') ?? current.productId
  const nextBillingDate = toIsoUtc(event.nextBillingDate)
  if (nextBillingDate !== undefined) current.nextBillingDate = nextBillingDate
  switch (type) {
    case 'SubscriptionCreated':
      current.state = 'CREATED'
      current.terminationRequested = false
      current.planId = stringField(event, 'planId') ?? current.planId
      current.deviceNumber = numberField(event, 'deviceNumber') ?? current.deviceNumber
      current.trialPeriodDuration = stringField(event, 'trialPeriodDuration') ?? current.trialPeriodDuration
      break
    case 'SubscriptionActivated':
      if (current.state === 'CREATED' || current.state === 'UNKNOWN') current.state = 'ACTIVATED'
      break
    case 'SubscriptionRenewed':
      if (current.state === 'TERMINATED' || current.state === 'UNKNOWN') current.state = 'ACTIVATED'
      // A renewal after a termination request means the user resumed (reinstall ordering, §6.5).
      current.terminationRequested = false
      break
    case 'SubscriptionTermsChanged':
      current.planId = stringField(event, 'planId') ?? current.planId
      current.deviceNumber = numberField(event, 'deviceNumber') ?? current.deviceNumber
      break
    case 'SubscriptionTerminationRequested':
      current.terminationRequested = true
      break
    case 'SubscriptionTerminated':
      current.state = 'TERMINATED'
      break
    case 'AddonsUpdated':
      current.addons = parseAddons(event.addons) ?? current.addons
      break
    case undefined:
      break
  }
}

interface SubscriptionRow {
  subscription_id: string
  user_id: string
  product_id: string | null
  plan_id: string | null
  device_number: number | null
  trial_period_duration: string | null
  state: string
  termination_requested: number
  next_billing_date: string | null
  addons: string | null
  last_sequence_number: number
  raw: string
  updated_at: string
  history_size: number
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    subscriptionId: row.subscription_id,
    userId: row.user_id,
    productId: row.product_id,
    planId: row.plan_id,
    deviceNumber: row.device_number,
    trialPeriodDuration: row.trial_period_duration,
    state: row.state as SubscriptionState,
    terminationRequested: Number(row.termination_requested) === 1,
    nextBillingDate: row.next_billing_date,
    addons: row.addons === null ? null : (JSON.parse(row.addons) as SubscriptionAddon[]),
    lastSequenceNumber: row.last_sequence_number,
    lastEvent: parseJsonObject(row.raw),
    updatedAt: row.updated_at,
  }
}

const INITIAL: Folded = {
  productId: null,
  planId: null,
  deviceNumber: null,
  trialPeriodDuration: null,
  state: 'UNKNOWN',
  terminationRequested: false,
  nextBillingDate: null,
  addons: null,
}

function foldedOf(row: SubscriptionRow): Folded {
  return {
    productId: row.product_id,
    planId: row.plan_id,
    deviceNumber: row.device_number,
    trialPeriodDuration: row.trial_period_duration,
    state: row.state as SubscriptionState,
    terminationRequested: Number(row.termination_requested) === 1,
    nextBillingDate: row.next_billing_date,
    addons: row.addons === null ? null : (JSON.parse(row.addons) as SubscriptionAddon[]),
  }
}

const KEPT_FIELDS = [
  'subscriptionId',
  'userId',
  'sequenceNumber',
  'type',
  'productId',
  'timestamp',
  'planId',
  'deviceNumber',
  'trialPeriodDuration',
  'nextBillingDate',
  'chargedSum',
] as const

/**
 * The event as it is stored and folded: as received when its JSON fits in
 * {@link MAX_STORED_EVENT_CHARS}, else its known fields (strings up to 256 characters, the first
 * 100 addons) with `"truncated": true`. The in-order step and a later replay fold the same form,
 * so both reach the same state.
 *
 * @example
 * ```ts
 * storedForm({ type: 'SubscriptionCreated', padding: 'x'.repeat(100_000) }).json.length < 16_384 // true
 * ```
 */
export function storedForm(event: SubscriptionEventInput): { event: JsonObject; json: string } {
  const json = JSON.stringify(event)
  if (json.length <= MAX_STORED_EVENT_CHARS) return { event: event as unknown as JsonObject, json }
  const kept: Record<string, unknown> = { truncated: true }
  const source = event as unknown as JsonObject
  for (const key of KEPT_FIELDS) {
    const value = source[key]
    if (typeof value === 'number' || typeof value === 'boolean') kept[key] = value
    else if (typeof value === 'string' && value.length <= MAX_KEPT_STRING) kept[key] = value
  }
  const addons = parseAddons(source.addons)
  if (addons !== null) kept.addons = addons
  return { event: kept, json: JSON.stringify(kept) }
}

/** Options of {@link createSubscriptionsRepository}. */
export interface SubscriptionsRepositoryOptions {
  /** Events stored per subscription (default {@link SUBSCRIPTION_HISTORY_LIMIT}). */
  historyLimit?: number
}

/**
 * Creates the subscriptions repository.
 *
 * @example
 * ```ts
 * const subscriptions = createSubscriptionsRepository({ data, db: data.db, now: () => new Date() })
 * const { subscription } = await subscriptions.applyEvent(userId, event)
 * subscription.state // 'CREATED'
 * ```
 */
export function createSubscriptionsRepository(
  ctx: RepositoryContext,
  options: SubscriptionsRepositoryOptions = {},
): SubscriptionsRepository {
  const { data, db, now } = ctx
  const historyLimit = options.historyLimit ?? SUBSCRIPTION_HISTORY_LIMIT
  if (!Number.isSafeInteger(historyLimit) || historyLimit < 1) {
    throw new TypeError('createSubscriptionsRepository: "historyLimit" must be a positive integer')
  }
  const columns = [
    'subscription_id',
    'user_id',
    'product_id',
    'plan_id',
    'device_number',
    'trial_period_duration',
    'state',
    'termination_requested',
    'next_billing_date',
    'addons',
    'last_sequence_number',
    'raw',
    'updated_at',
    'history_size',
  ] as const
  const select = (q: typeof db, userId: string, subscriptionId: string) =>
    q
      .selectFrom('subscriptions')
      .select(columns)
      .where('user_id', '=', userId)
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirst()

  const save = async (trx: typeof db, row: SubscriptionRow): Promise<void> => {
    await trx
      .insertInto('subscriptions')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['user_id', 'subscription_id']).doUpdateSet((eb) => ({
          product_id: eb.ref('excluded.product_id'),
          plan_id: eb.ref('excluded.plan_id'),
          device_number: eb.ref('excluded.device_number'),
          trial_period_duration: eb.ref('excluded.trial_period_duration'),
          state: eb.ref('excluded.state'),
          termination_requested: eb.ref('excluded.termination_requested'),
          next_billing_date: eb.ref('excluded.next_billing_date'),
          addons: eb.ref('excluded.addons'),
          last_sequence_number: eb.ref('excluded.last_sequence_number'),
          raw: eb.ref('excluded.raw'),
          updated_at: eb.ref('excluded.updated_at'),
          history_size: eb.ref('excluded.history_size'),
        })),
      )
      .execute()
  }

  const rowOf = (
    base: { subscriptionId: string; userId: string; historySize: number; at: string },
    folded: Folded,
    last: { sequenceNumber: number; raw: string },
  ): SubscriptionRow => ({
    subscription_id: base.subscriptionId,
    user_id: base.userId,
    product_id: folded.productId,
    plan_id: folded.planId,
    device_number: folded.deviceNumber,
    trial_period_duration: folded.trialPeriodDuration,
    state: folded.state,
    termination_requested: folded.terminationRequested ? 1 : 0,
    next_billing_date: folded.nextBillingDate,
    addons: folded.addons === null ? null : JSON.stringify(folded.addons),
    last_sequence_number: last.sequenceNumber,
    raw: last.raw,
    updated_at: base.at,
    history_size: base.historySize,
  })

  return {
    async applyEvent(userId, event) {
      requireId(userId, 'userId')
      requireId(event.subscriptionId, 'subscriptionId')
      requireId(event.type, 'type')
      if (!Number.isSafeInteger(event.sequenceNumber)) {
        throw new TypeError('subscriptions.applyEvent: "sequenceNumber" must be an integer')
      }
      const known = normalizeSubscriptionEventType(event.type) !== undefined
      // Serialised (and cut down when huge) before the transaction: the lock is held for the writes only.
      const stored = storedForm(event)
      return data.transaction(async (trx): Promise<ApplySubscriptionEventResult> => {
        // Events of one subscription are applied one transaction at a time, whichever instance
        // receives them (ids compare without case, so the lock key is lower-cased).
        await data.lock(trx, `subscription:${userId}:${event.subscriptionId.toLowerCase()}`)
        const at = now().toISOString()
        const existing = await select(trx, userId, event.subscriptionId)
        const unchanged = (extra: { duplicate: boolean; stale: boolean }) => ({
          ...extra,
          known,
          subscription: toSubscription(existing as SubscriptionRow),
        })
        if (existing !== undefined && event.sequenceNumber === existing.last_sequence_number) {
          return unchanged({ duplicate: true, stale: false })
        }
        const historySize = Number(existing?.history_size ?? 0)
        const complete = historySize < historyLimit
        const appendToHistory = async (): Promise<boolean> => {
          const result = await trx
            .insertInto('subscription_events')
            .values({
              user_id: userId,
              subscription_id: event.subscriptionId,
              sequence_number: event.sequenceNumber,
              // Bounded like the ids: an unknown type is whatever the sender wrote.
              type: event.type.slice(0, MAX_KEPT_STRING),
              raw: stored.json,
              received_at: at,
            })
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst()
          return (result.numInsertedOrUpdatedRows ?? 0n) === 1n
        }
        const base = {
          subscriptionId: existing?.subscription_id ?? event.subscriptionId,
          userId,
          at,
        }

        if (existing === undefined || event.sequenceNumber > existing.last_sequence_number) {
          // In order (or after a gap): one step from the stored state. The state is the fold of
          // every event up to the last one, so this equals a replay, without reading the history.
          const added = complete && (await appendToHistory())
          const folded = existing === undefined ? { ...INITIAL } : foldedOf(existing)
          step(folded, stored.event)
          const row = rowOf({ ...base, historySize: historySize + (added ? 1 : 0) }, folded, {
            sequenceNumber: event.sequenceNumber,
            raw: stored.json,
          })
          await save(trx, row)
          return { duplicate: false, stale: false, known, subscription: toSubscription(row) }
        }

        // Older than the state. Only a complete history can fold it in the right place.
        if (!complete) return unchanged({ duplicate: false, stale: true })
        if (!(await appendToHistory())) return unchanged({ duplicate: true, stale: false })
        const history = await trx
          .selectFrom('subscription_events')
          .select('raw')
          .where('user_id', '=', userId)
          .where('subscription_id', '=', event.subscriptionId)
          .orderBy('sequence_number')
          .limit(historyLimit + 1)
          .execute()
        const folded = { ...INITIAL }
        for (const item of history) step(folded, parseJsonObject(item.raw))
        const row = rowOf({ ...base, historySize: historySize + 1 }, folded, {
          sequenceNumber: existing.last_sequence_number,
          raw: existing.raw,
        })
        await save(trx, row)
        return { duplicate: false, stale: false, known, subscription: toSubscription(row) }
      })
    },
    async get(userId, subscriptionId) {
      const row = await select(db, userId, subscriptionId)
      return row && toSubscription(row)
    },
    async listForUser(userId) {
      const rows = await db
        .selectFrom('subscriptions')
        .select(columns)
        .where('user_id', '=', userId)
        .orderBy('subscription_id')
        .execute()
      return rows.map(toSubscription)
    },
  }
}
