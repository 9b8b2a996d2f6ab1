import { toIsoUtc } from '../util/time.js'
import { type RepositoryContext, requireId } from './context.js'

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
  readonly installation: Installation | undefined
}

/** Installation state per (user, app). */
export interface InstallationsRepository {
  /**
   * Stores the event once (by user and `id`) under `userId` (the verified user of the request;
   * `data.userId` is not trusted for ownership) and applies it unless a newer event for the same
   * user and app was applied already. Only this user's installation is touched. Tokens are not
   * revoked here: on `ApplicationUninstalled` the library's dispatcher has already done it, before
   * the handler runs, through the `RevocationStore` over this database (`src/revocations.ts`).
   */
  applyEvent(userId: string, event: InstallationEventInput): Promise<ApplyInstallationEventResult>
  get(userId: string, productId: string): Promise<Installation | undefined>
  /** Whether the app is installed for the user (any product id). */
  isInstalled(userId: string): Promise<boolean>
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
 * const installations = createInstallationsRepository({ data, db: data.db, now: () => new Date() })
 * await installations.applyEvent(userId, event) // ApplicationUninstalled -> installed: false
 * ```
 */
export function createInstallationsRepository(ctx: RepositoryContext): InstallationsRepository {
  const { data, db, now } = ctx
  const columns = [
    'user_id',
    'product_id',
    'installed',
    'last_event_id',
    'last_event_time',
    'installed_at',
    'uninstalled_at',
    'updated_at',
  ] as const

  return {
    async applyEvent(userId, event) {
      requireId(userId, 'userId')
      requireId(event.id, 'id')
      requireId(event.type, 'type')
      requireId(event.data?.productId, 'data.productId')
      return data.transaction(async (trx): Promise<ApplyInstallationEventResult> => {
        await data.lock(trx, `installation:${userId}`)
        const { productId } = event.data
        const type = normalizeInstallationEventType(event.type)
        const eventTime = toIsoUtc(event.timestamp) ?? null
        const at = now().toISOString()
        const result = await trx
          .insertInto('installation_events')
          .values({
            id: event.id,
            user_id: userId,
            product_id: productId,
            type: event.type,
            event_time: eventTime,
            raw: JSON.stringify(event),
            received_at: at,
          })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst()
        const inserted = (result.numInsertedOrUpdatedRows ?? 0n) === 1n
        const existing = await trx
          .selectFrom('installations')
          .select(columns)
          .where('user_id', '=', userId)
          .where('product_id', '=', productId)
          .executeTakeFirst()
        const current = existing && toInstallation(existing)
        if (!inserted) return { duplicate: true, applied: false, installation: current }
        // Deliveries are retried for days and may overtake each other: an older event never wins.
        const stale =
          existing?.last_event_time != null && eventTime !== null && eventTime < existing.last_event_time
        if (type === undefined || stale) return { duplicate: false, applied: false, installation: current }
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
        await trx
          .insertInto('installations')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['user_id', 'product_id']).doUpdateSet((eb) => ({
              installed: eb.ref('excluded.installed'),
              last_event_id: eb.ref('excluded.last_event_id'),
              last_event_time: eb.ref('excluded.last_event_time'),
              installed_at: eb.ref('excluded.installed_at'),
              uninstalled_at: eb.ref('excluded.uninstalled_at'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute()
        return { duplicate: false, applied: true, installation: toInstallation(row) }
      })
    },
    async get(userId, productId) {
      const row = await db
        .selectFrom('installations')
        .select(columns)
        .where('user_id', '=', userId)
        .where('product_id', '=', productId)
        .executeTakeFirst()
      return row && toInstallation(row)
    },
    async isInstalled(userId) {
      const row = await db
        .selectFrom('installations')
        .select('user_id')
        .where('user_id', '=', userId)
        .where('installed', '=', 1)
        .limit(1)
        .executeTakeFirst()
      return row !== undefined
    },
  }
}
