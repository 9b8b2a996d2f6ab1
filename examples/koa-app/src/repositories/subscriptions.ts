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
  readonly subscription: Subscription
}

/** Subscriptions and their events, per user: two users may own the same subscription id. */
export interface SubscriptionsRepository {
  /**
   * Stores the event once, under `userId` (the verified user of the request; the event's own
   * `userId` is not trusted for ownership), and recomputes that user's subscription by replaying
   * its events in `sequenceNumber` order, so duplicates and out-of-order deliveries end in the
   * same state as in-order delivery. Another user's subscription with the same id is never read
   * or changed.
   */
  applyEvent(userId: string, event: SubscriptionEventInput): ApplySubscriptionEventResult
  get(userId: string, subscriptionId: string): Subscription | undefined
  listForUser(userId: string): Subscription[]
}

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
  state: SubscriptionState
  termination_requested: number
  next_billing_date: string | null
  addons: string | null
  last_sequence_number: number
  raw: string
  updated_at: string
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    subscriptionId: row.subscription_id,
    userId: row.user_id,
    productId: row.product_id,
    planId: row.plan_id,
    deviceNumber: row.device_number,
    trialPeriodDuration: row.trial_period_duration,
    state: row.state,
    terminationRequested: row.termination_requested === 1,
    nextBillingDate: row.next_billing_date,
    addons: row.addons === null ? null : (JSON.parse(row.addons) as SubscriptionAddon[]),
    lastSequenceNumber: row.last_sequence_number,
    lastEvent: parseJsonObject(row.raw),
    updatedAt: row.updated_at,
  }
}

/**
 * Creates the subscriptions repository.
 *
 * @example
 * ```ts
 * const subscriptions = createSubscriptionsRepository({ db: db.sqlite, now: () => new Date() })
 * const { subscription } = subscriptions.applyEvent(event)
 * subscription.state // 'CREATED'
 * ```
 */
export function createSubscriptionsRepository(ctx: RepositoryContext): SubscriptionsRepository {
  const { db, now } = ctx
  const insertEvent = db.prepare<[string, string, number, string, string, string]>(
    'INSERT OR IGNORE INTO subscription_events (user_id, subscription_id, sequence_number, type, raw, received_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const events = db
    .prepare<[string, string], string>(
      'SELECT raw FROM subscription_events WHERE user_id = ? AND subscription_id = ? ORDER BY sequence_number',
    )
    .pluck()
  const columns =
    'subscription_id, user_id, product_id, plan_id, device_number, trial_period_duration, state, termination_requested, next_billing_date, addons, last_sequence_number, raw, updated_at'
  const select = db.prepare<[string, string], SubscriptionRow>(
    `SELECT ${columns} FROM subscriptions WHERE user_id = ? AND subscription_id = ?`,
  )
  const byUser = db.prepare<[string], SubscriptionRow>(
    `SELECT ${columns} FROM subscriptions WHERE user_id = ? ORDER BY subscription_id`,
  )
  const upsert = db.prepare<[SubscriptionRow]>(
    `INSERT INTO subscriptions (${columns}) VALUES (@subscription_id, @user_id, @product_id, @plan_id, @device_number,
       @trial_period_duration, @state, @termination_requested, @next_billing_date, @addons, @last_sequence_number, @raw, @updated_at)
     ON CONFLICT (user_id, subscription_id) DO UPDATE SET product_id = excluded.product_id,
       plan_id = excluded.plan_id, device_number = excluded.device_number,
       trial_period_duration = excluded.trial_period_duration, state = excluded.state,
       termination_requested = excluded.termination_requested, next_billing_date = excluded.next_billing_date,
       addons = excluded.addons, last_sequence_number = excluded.last_sequence_number, raw = excluded.raw,
       updated_at = excluded.updated_at`,
  )

  const apply = db.transaction(
    (userId: string, event: SubscriptionEventInput): ApplySubscriptionEventResult => {
      const known = normalizeSubscriptionEventType(event.type) !== undefined
      const raw = JSON.stringify(event)
      const at = now().toISOString()
      const inserted =
        insertEvent.run(userId, event.subscriptionId, event.sequenceNumber, event.type, raw, at).changes === 1
      const existing = select.get(userId, event.subscriptionId)
      if (!inserted && existing) return { duplicate: true, known, subscription: toSubscription(existing) }
      const history = events.all(userId, event.subscriptionId).map(parseJsonObject)
      const folded: Folded = {
        productId: null,
        planId: null,
        deviceNumber: null,
        trialPeriodDuration: null,
        state: 'UNKNOWN',
        terminationRequested: false,
        nextBillingDate: null,
        addons: null,
      }
      for (const item of history) step(folded, item)
      const last = history.at(-1) ?? parseJsonObject(raw)
      const row: SubscriptionRow = {
        subscription_id: existing?.subscription_id ?? event.subscriptionId,
        user_id: userId,
        product_id: folded.productId,
        plan_id: folded.planId,
        device_number: folded.deviceNumber,
        trial_period_duration: folded.trialPeriodDuration,
        state: folded.state,
        termination_requested: folded.terminationRequested ? 1 : 0,
        next_billing_date: folded.nextBillingDate,
        addons: folded.addons === null ? null : JSON.stringify(folded.addons),
        last_sequence_number: numberField(last, 'sequenceNumber') ?? event.sequenceNumber,
        raw: JSON.stringify(last),
        updated_at: at,
      }
      upsert.run(row)
      return { duplicate: !inserted, known, subscription: toSubscription(row) }
    },
  )

  return {
    applyEvent: (userId, event) => {
      requireId(userId, 'userId')
      requireId(event.subscriptionId, 'subscriptionId')
      requireId(event.type, 'type')
      if (!Number.isSafeInteger(event.sequenceNumber)) {
        throw new TypeError('subscriptions.applyEvent: "sequenceNumber" must be an integer')
      }
      return apply.immediate(userId, event)
    },
    get: (userId, subscriptionId) => {
      const row = select.get(userId, subscriptionId)
      return row && toSubscription(row)
    },
    listForUser: (userId) => byUser.all(userId).map(toSubscription),
  }
}
