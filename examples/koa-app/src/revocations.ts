import type { RevocableVerifier, RevocationStore } from 'evotor-partner'
import { sql } from 'kysely'
import type { AppDb } from './database/index.js'
import { revokeAllIn } from './repositories/user-tokens.js'
import type { SharedState } from './shared-state.js'
import { type BusyRetryOptions, retryWhileBusy } from './util/busy.js'

/** Options of {@link createDatabaseRevocations}. */
export interface DatabaseRevocationsOptions {
  data: AppDb
  /** Tells the other instances (PostgreSQL NOTIFY or Redis pub/sub); none on SQLite. */
  shared?: SharedState | undefined
  busyRetry?: BusyRetryOptions
  now?: () => Date
}

/**
 * The library's `RevocationStore` over this app's database (SQLite and PostgreSQL alike): the
 * per-user mark lives in `token_revocations`, raised in one statement that never lowers it
 * (`MAX` / `GREATEST` on conflict), and in the same transaction the user's stored tokens handed
 * out at or before the mark are flagged revoked, so the token lookup refuses them on every
 * instance and after restarts. The webhook dispatcher calls `revokeUser` on
 * `ApplicationUninstalled` (no handler code); the other instances drop their cached
 * verifications through the shared state's announcement.
 *
 * @example
 * ```ts
 * const revocations = createDatabaseRevocations({ data, shared })
 * const verifier = createUserTokenLookup({ lookup, revocations })
 * ```
 */
export function createDatabaseRevocations(options: DatabaseRevocationsOptions): RevocationStore {
  const { data, shared } = options
  const now = options.now ?? (() => new Date())
  const verifiers = new Set<RevocableVerifier>()
  const greatest =
    data.kind === 'postgres'
      ? sql<number>`GREATEST(token_revocations.revoked_before, excluded.revoked_before)`
      : sql<number>`MAX(token_revocations.revoked_before, excluded.revoked_before)`
  return {
    async revokeUser(userId, before) {
      const ms = before.getTime()
      await retryWhileBusy(
        () =>
          data.transaction(async (trx) => {
            await trx
              .insertInto('token_revocations')
              .values({ user_id: userId, revoked_before: ms })
              .onConflict((oc) => oc.column('user_id').doUpdateSet({ revoked_before: greatest }))
              .execute()
            // Tokens handed out at or before the uninstall; a reinstall's token (later) stays (§4.6).
            await revokeAllIn(trx, now, userId, before.toISOString())
          }),
        options.busyRetry,
      )
      for (const verifier of verifiers) verifier.revokeUser(userId)
      // Also on a redelivery: the announcement of the first delivery may have failed (then 503).
      if (shared !== undefined)
        await retryWhileBusy(() => shared.announceRevocation(userId), options.busyRetry)
    },
    async revokedBefore(userId) {
      const row = await data.db
        .selectFrom('token_revocations')
        .select('revoked_before')
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row === undefined ? undefined : new Date(Number(row.revoked_before))
    },
    attach(verifier) {
      verifiers.add(verifier)
      shared?.attach(verifier)
      return () => {
        verifiers.delete(verifier)
      }
    },
  }
}
