import { toIsoUtc } from '../util/time.js'
import { type RepositoryContext, requireId } from './context.js'
import type { UserTokensRepository } from './user-tokens.js'

/** An installation event as received (protocol §6.6). */
export interface InstallationEventInput {
  readonly id: string
  readonly type: string
  readonly timestamp?: unknown
  readonly data: { readonly productId: string; readonly userId: string }
}

/** Whether the app is installed for one user. */
export interface Installation {
  readonly userId: string
  readonly productId: string
  readonly installed: boolean
  readonly lastEventId: string
  /** The event's own time (ISO-8601 UTC), when it had a readable `timestamp`. */
  readonly lastEventTime: string | null
  readonly installedAt: string | null
  readonly uninstalledAt: string | null
  readonly updatedAt: string
}

/** Result of {@link InstallationsRepository.applyEvent}. */
export interface ApplyInstallationEventResult {
  /** The event id was seen before: nothing changed. */
  readonly duplicate: boolean
  /** `false` when the event is older than the last applied one or of an unknown type (stored only). */
  readonly applied: boolean
  /** How many user tokens this uninstall revoked. */
  readonly revokedTokens: number
  readonly installation: Installation | undefined
}

/** Installation state per (user, app). */
export interface InstallationsRepository {
  /**
   * Stores the event once (by user and `id`) under `userId` (the verified user of the request;
   * `data.userId` is not trusted for ownership) and applies it unless a newer event for the same
   * user and app was applied already. Only this user's installation and tokens are touched. `ApplicationUninstalled` also revokes, in the same transaction, the
   * user's tokens handed out before the event's `timestamp` (now when it has none), so a late
   * delivery leaves the token of a later reinstall active (protocol §4.6).
   */
  applyEvent(userId: string, event: InstallationEventInput): ApplyInstallationEventResult
  get(userId: string, productId: string): Installation | undefined
  /** Whether the app is installed for the user (any product id). */
  isInstalled(userId: string): boolean
}

interface InstallationRow {
  user_id: string
  product_id: string
  installed: number
  last_event_id: string
  last_event_time: string | null
  installed_at: string | null
  uninstalled_at: string | null
  updated_at: string
}

function toInstallation(row: InstallationRow): Installation {
  return {
    userId: row.user_id,
    productId: row.product_id,
    installed: row.installed === 1,
    lastEventId: row.last_event_id,
    lastEventTime: row.last_event_time,
    installedAt: row.installed_at,
    uninstalledAt: row.uninstalled_at,
    updatedAt: row.updated_at,
  }
}

/**
 * Maps `applicationInstalled` to `ApplicationInstalled` (protocol §11 A19); `undefined` when unknown.
 *
 * @example
 * ```ts
 * normalizeInstallationEventType('applicationUninstalled') // 'ApplicationUninstalled'
 * ```
 */
export function normalizeInstallationEventType(
  type: string,
): 'ApplicationInstalled' | 'ApplicationUninstalled' | undefined {
  const pascal = type.charAt(0).toUpperCase() + type.slice(1)
  return pascal === 'ApplicationInstalled' || pascal === 'ApplicationUninstalled' ? pascal : undefined
}

/**
 * Creates the installations repository.
 *
 * @example
 * ```ts
 * const installations = createInstallationsRepository({ db: db.sqlite, now: () => new Date() }, userTokens)
 * installations.applyEvent(event) // ApplicationUninstalled -> tokens revoked
 * ```
 */
export function createInstallationsRepository(
  ctx: RepositoryContext,
  userTokens: UserTokensRepository,
): InstallationsRepository {
  const { db, now } = ctx
  const insertEvent = db.prepare<[string, string, string, string, string | null, string, string]>(
    'INSERT OR IGNORE INTO installation_events (id, user_id, product_id, type, event_time, raw, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  const columns =
    'user_id, product_id, installed, last_event_id, last_event_time, installed_at, uninstalled_at, updated_at'
  const select = db.prepare<[string, string], InstallationRow>(
    `SELECT ${columns} FROM installations WHERE user_id = ? AND product_id = ?`,
  )
  const anyInstalled = db
    .prepare<[string], number>(
      'SELECT EXISTS (SELECT 1 FROM installations WHERE user_id = ? AND installed = 1)',
    )
    .pluck()
  const upsert = db.prepare<[InstallationRow]>(
    `INSERT INTO installations (${columns}) VALUES (@user_id, @product_id, @installed, @last_event_id, @last_event_time,
       @installed_at, @uninstalled_at, @updated_at)
     ON CONFLICT (user_id, product_id) DO UPDATE SET installed = excluded.installed,
       last_event_id = excluded.last_event_id, last_event_time = excluded.last_event_time,
       installed_at = excluded.installed_at, uninstalled_at = excluded.uninstalled_at, updated_at = excluded.updated_at`,
  )

  const apply = db.transaction(
    (userId: string, event: InstallationEventInput): ApplyInstallationEventResult => {
      const { productId } = event.data
      const type = normalizeInstallationEventType(event.type)
      const eventTime = toIsoUtc(event.timestamp) ?? null
      const at = now().toISOString()
      const inserted =
        insertEvent.run(event.id, userId, productId, event.type, eventTime, JSON.stringify(event), at)
          .changes === 1
      const existing = select.get(userId, productId)
      const current = existing && toInstallation(existing)
      if (!inserted) return { duplicate: true, applied: false, revokedTokens: 0, installation: current }
      // Deliveries are retried for days and may overtake each other: an older event never wins.
      const stale =
        existing?.last_event_time != null && eventTime !== null && eventTime < existing.last_event_time
      if (type === undefined || stale)
        return { duplicate: false, applied: false, revokedTokens: 0, installation: current }
      const installed = type === 'ApplicationInstalled'
      const row: InstallationRow = {
        user_id: userId,
        product_id: existing?.product_id ?? productId,
        installed: installed ? 1 : 0,
        last_event_id: event.id,
        last_event_time: eventTime ?? existing?.last_event_time ?? null,
        installed_at: installed ? (eventTime ?? at) : (existing?.installed_at ?? null),
        uninstalled_at: installed ? (existing?.uninstalled_at ?? null) : (eventTime ?? at),
        updated_at: at,
      }
      upsert.run(row)
      // Only tokens handed out before the uninstall happened: a delivery delayed past a reinstall
      // must not revoke the token Evotor got then, as Evotor cannot ask for another (§4.6).
      const revokedTokens = installed ? 0 : userTokens.revokeAll(userId, eventTime ?? at)
      return { duplicate: false, applied: true, revokedTokens, installation: toInstallation(row) }
    },
  )

  return {
    applyEvent: (userId, event) => {
      requireId(userId, 'userId')
      requireId(event.id, 'id')
      requireId(event.type, 'type')
      requireId(event.data?.productId, 'data.productId')
      return apply.immediate(userId, event)
    },
    get: (userId, productId) => {
      const row = select.get(userId, productId)
      return row && toInstallation(row)
    },
    isInstalled: (userId) => anyInstalled.get(userId) === 1,
  }
}
