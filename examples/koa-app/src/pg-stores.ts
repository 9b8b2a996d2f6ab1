import type { ClaimResult, IdempotencyStore, SequenceStore } from 'evotor-partner'
import { type Kysely, sql } from 'kysely'
import type { AppDb, Schema } from './database/index.js'
import { type BusyRetryOptions, retryWhileBusy } from './util/busy.js'

/**
 * Marks an idempotency key done in `trx`, the way the database stores' `complete` does (SQLite's
 * and PostgreSQL's alike: the same table). Run it in the transaction that writes the data the
 * key protects, so that both commit together: a crash after the commit leaves the key done, and
 * the re-delivery answers 200 without applying anything twice.
 *
 * @param trx - a transaction of the app's database (or its query builder)
 * @param key - the delivery's idempotency key (`idempotencyKeyFor`)
 * @param at - the clock, ms since the epoch
 * @example
 * ```ts
 * await data.transaction(async (trx) => {
 *   await trx.insertInto('receipts').values(rows).execute()
 *   await completeClaim(trx, idempotencyKeyFor('receipts', body, { userId })!, Date.now())
 * })
 * ```
 */
export async function completeClaim(trx: Kysely<Schema>, key: string, at: number): Promise<void> {
  await trx
    .insertInto('idempotency_keys')
    .values({ key, state: 'done', lease_until: 0, updated_at: at })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        state: sql<'done'>`'done'`,
        lease_until: 0,
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute()
}

/** Options of {@link createDatabaseStores}. */
export interface DatabaseStoresOptions {
  /** The open database (PostgreSQL; SQLite works too). */
  data: AppDb
  /** How long `done` keys are remembered (default 7 days). */
  retentionMs?: number
  /** Clock; injectable for tests. */
  now?: () => Date
  /** Retry budget and `Retry-After` of the 503 when the database is locked or unreachable. */
  busyRetry?: BusyRetryOptions
}

/**
 * The dispatcher's idempotency and sequence stores in the app's database through Kysely, shared
 * by every instance using it. A claim is one atomic upsert (a new key or an expired lease is
 * claimed, a live lease answers `in-progress`, a completed key `done`); the last handled sequence
 * number never goes down (`GREATEST`). An unreachable database answers 503 + `Retry-After`.
 *
 * @param options - the database and retention
 * @returns the two stores for `createEvotorWebhooks`
 * @example
 * ```ts
 * const { idempotency, sequences } = createDatabaseStores({ data })
 * ```
 */
export function createDatabaseStores(options: DatabaseStoresOptions): {
  idempotency: IdempotencyStore
  sequences: SequenceStore
} {
  const { data } = options
  if (typeof data?.transaction !== 'function') {
    throw new TypeError('createDatabaseStores: option "data" must be an open database (openAppDb)')
  }
  const retentionMs = options.retentionMs ?? 7 * 24 * 60 * 60 * 1000
  if (!Number.isFinite(retentionMs) || retentionMs <= 0) {
    throw new TypeError('createDatabaseStores: option "retentionMs" must be a positive number')
  }
  const clock = options.now ?? (() => new Date())
  const now = (): number => clock().getTime()
  const retry = <T>(fn: () => Promise<T>): Promise<T> => retryWhileBusy(fn, options.busyRetry)
  const { db } = data
  let lastPrune = Number.NEGATIVE_INFINITY

  return {
    idempotency: {
      claim: (key, leaseMs) =>
        retry(async (): Promise<ClaimResult> => {
          const at = now()
          if (at - lastPrune >= 60 * 60 * 1000) {
            lastPrune = at
            await db
              .deleteFrom('idempotency_keys')
              .where((eb) =>
                eb.or([
                  eb.and([eb('state', '=', 'done'), eb('updated_at', '<', at - retentionMs)]),
                  eb.and([eb('state', '=', 'claimed'), eb('lease_until', '<', at - retentionMs)]),
                ]),
              )
              .execute()
          }
          const claimed = await db
            .insertInto('idempotency_keys')
            .values({ key, state: 'claimed', lease_until: at + leaseMs, updated_at: at })
            .onConflict((oc) =>
              oc
                .column('key')
                .doUpdateSet((eb) => ({
                  lease_until: eb.ref('excluded.lease_until'),
                  updated_at: eb.ref('excluded.updated_at'),
                }))
                .where('idempotency_keys.state', '=', 'claimed')
                .where('idempotency_keys.lease_until', '<=', at),
            )
            .returning('key')
            .executeTakeFirst()
          if (claimed !== undefined) return 'claimed'
          const row = await db
            .selectFrom('idempotency_keys')
            .select('state')
            .where('key', '=', key)
            .executeTakeFirst()
          return row?.state === 'done' ? 'done' : 'in-progress'
        }),
      complete: (key) =>
        retry(async () => {
          await completeClaim(db, key, now())
        }),
      release: (key) =>
        retry(async () => {
          await db
            .deleteFrom('idempotency_keys')
            .where('key', '=', key)
            .where('state', '=', 'claimed')
            .execute()
        }),
    },
    sequences: {
      getLastHandled: (subscriptionId) =>
        retry(async () => {
          const row = await db
            .selectFrom('subscription_sequences')
            .select('last_handled')
            .where('subscription_id', '=', subscriptionId)
            .executeTakeFirst()
          return row?.last_handled
        }),
      setLastHandled: (subscriptionId, sequenceNumber) =>
        retry(async () => {
          if (!Number.isSafeInteger(sequenceNumber)) {
            throw new TypeError('setLastHandled: "sequenceNumber" must be an integer')
          }
          const greatest = data.kind === 'postgres' ? 'GREATEST' : 'MAX'
          await db
            .insertInto('subscription_sequences')
            .values({ subscription_id: subscriptionId, last_handled: sequenceNumber })
            .onConflict((oc) =>
              oc.column('subscription_id').doUpdateSet({
                last_handled: sql<number>`${sql.raw(greatest)}(subscription_sequences.last_handled, excluded.last_handled)`,
              }),
            )
            .execute()
        }),
    },
  }
}
