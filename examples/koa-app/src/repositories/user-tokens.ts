import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Schema } from '../database/index.js'
import type { RepositoryContext } from './context.js'

/** A partner user token issued to Evotor for one Evotor user. */
export interface IssuedUserToken {
  readonly userId: string
  readonly token: string
  readonly issuedAt: string
  /** When the token was last handed to Evotor (`user/create`, `user/verify`), ISO-8601 UTC. */
  readonly deliveredAt: string
  readonly revokedAt: string | null
}

/** Partner user tokens (the `token` of `user/create` and `user/verify`). */
export interface UserTokensRepository {
  /** The user's active (not revoked) token, if any. */
  findActive(userId: string): Promise<IssuedUserToken | undefined>
  /**
   * The user's active token, recorded as handed out now (`deliveredAt`), if there is one. Use it
   * instead of {@link findActive} when the token is about to be returned to Evotor.
   */
  deliverActive(userId: string): Promise<IssuedUserToken | undefined>
  /**
   * Stores a freshly issued token unless the user already has an active one, and returns the
   * active token, recorded as handed out now. Concurrent or retried `user/create` calls
   * therefore all answer with the same token (protocol §11 A56); at most one token per user is
   * active.
   */
  saveIfNoneActive(userId: string, token: string): Promise<{ token: IssuedUserToken; created: boolean }>
  /** The token's record when it exists and is not revoked (lookup for request authorization). */
  lookup(token: string): Promise<IssuedUserToken | undefined>
  /**
   * Revokes the user's active tokens; returns how many were revoked. With `handedOutBefore`
   * (an ISO-8601 UTC time), only tokens last handed out before it: a delayed
   * `ApplicationUninstalled` must not revoke the token Evotor got on the reinstall that followed,
   * because Evotor has no way to ask for a new one (protocol §4.6).
   */
  revokeAll(userId: string, handedOutBefore?: string): Promise<number>
}

interface TokenRow {
  user_id: string
  token: string
  issued_at: string
  delivered_at: string | null
  revoked_at: string | null
}

function toToken(row: TokenRow): IssuedUserToken {
  return {
    userId: row.user_id,
    token: row.token,
    issuedAt: row.issued_at,
    deliveredAt: row.delivered_at ?? row.issued_at,
    revokedAt: row.revoked_at,
  }
}

const COLUMNS = ['user_id', 'token', 'issued_at', 'delivered_at', 'revoked_at'] as const

/**
 * SHA-256 of a token: lookups go through the hash, so the index is not probed with the secret.
 *
 * @example
 * ```ts
 * tokenHash('abc').length // 64
 * ```
 */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/**
 * Creates the user-tokens repository. The plain token is kept (not only its hash) because a
 * retried `user/create` must return the very same token (protocol §11 A56).
 *
 * @example
 * ```ts
 * const tokens = createUserTokensRepository({ db: db.sqlite, now: () => new Date() })
 * const { token } = tokens.saveIfNoneActive(userId, await issuer.issue(userId))
 * ```
 */
export function createUserTokensRepository(ctx: RepositoryContext): UserTokensRepository {
  const { data, db, now } = ctx
  const deliver = (q: Kysely<Schema>, at: string, userId: string): Promise<TokenRow | undefined> =>
    q
      .updateTable('user_tokens')
      .set({ delivered_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning(COLUMNS)
      .executeTakeFirst()
  const active = (q: Kysely<Schema>, userId: string): Promise<TokenRow | undefined> =>
    q
      .selectFrom('user_tokens')
      .select(COLUMNS)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()

  return {
    async findActive(userId) {
      const row = await active(db, userId)
      return row && toToken(row)
    },
    async deliverActive(userId) {
      const row = await deliver(db, now().toISOString(), userId)
      return row && toToken(row)
    },
    async saveIfNoneActive(userId, token) {
      if (token === '') throw new TypeError('userTokens.saveIfNoneActive: "token" must not be empty')
      return data.transaction(async (trx) => {
        await data.lock(trx, `user-token:${userId}`)
        const at = now().toISOString()
        const existing = await deliver(trx, at, userId)
        if (existing) return { token: toToken(existing), created: false }
        const inserted = await trx
          .insertInto('user_tokens')
          .values({ user_id: userId, token, token_hash: tokenHash(token), issued_at: at, delivered_at: at })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst()
        if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) {
          throw new Error('user token collision: issue a new random token')
        }
        const row = await active(trx, userId)
        if (!row) throw new Error('inserted user token not found')
        return { token: toToken(row), created: true }
      })
    },
    async lookup(token) {
      const row = await db
        .selectFrom('user_tokens')
        .select(COLUMNS)
        .where('token_hash', '=', tokenHash(token))
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
      return row && toToken(row)
    },
    revokeAll: (userId, handedOutBefore) => revokeAllIn(db, now, userId, handedOutBefore),
  }
}

/**
 * Revokes a user's active tokens through `q` (a transaction or the database); see
 * {@link UserTokensRepository.revokeAll}.
 *
 * @example
 * ```ts
 * await revokeAllIn(trx, () => new Date(), userId, uninstalledAt)
 * ```
 */
export async function revokeAllIn(
  q: Kysely<Schema>,
  now: () => Date,
  userId: string,
  handedOutBefore?: string,
): Promise<number> {
  let update = q
    .updateTable('user_tokens')
    .set({ revoked_at: now().toISOString() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
  if (handedOutBefore !== undefined) {
    update = update.where((eb) => eb(eb.fn.coalesce('delivered_at', 'issued_at'), '<=', handedOutBefore))
  }
  const result = await update.executeTakeFirst()
  return Number(result.numUpdatedRows)
}
