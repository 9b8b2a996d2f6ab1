import { createHash } from 'node:crypto'
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
  findActive(userId: string): IssuedUserToken | undefined
  /**
   * The user's active token, recorded as handed out now (`deliveredAt`), if there is one. Use it
   * instead of {@link findActive} when the token is about to be returned to Evotor.
   */
  deliverActive(userId: string): IssuedUserToken | undefined
  /**
   * Stores a freshly issued token unless the user already has an active one, and returns the
   * active token, recorded as handed out now. Concurrent or retried `user/create` calls
   * therefore all answer with the same token (protocol §11 A56); at most one token per user is
   * active.
   */
  saveIfNoneActive(userId: string, token: string): { token: IssuedUserToken; created: boolean }
  /** The token's record when it exists and is not revoked (lookup for request authorization). */
  lookup(token: string): IssuedUserToken | undefined
  /**
   * Revokes the user's active tokens; returns how many were revoked. With `handedOutBefore`
   * (an ISO-8601 UTC time), only tokens last handed out before it: a delayed
   * `ApplicationUninstalled` must not revoke the token Evotor got on the reinstall that followed,
   * because Evotor has no way to ask for a new one (protocol §4.6).
   */
  revokeAll(userId: string, handedOutBefore?: string): number
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

const COLUMNS = 'user_id, token, issued_at, delivered_at, revoked_at'

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
  const { db, now } = ctx
  const active = db.prepare<[string], TokenRow>(
    `SELECT ${COLUMNS} FROM user_tokens WHERE user_id = ? AND revoked_at IS NULL`,
  )
  const deliver = db.prepare<[string, string], TokenRow>(
    `UPDATE user_tokens SET delivered_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING ${COLUMNS}`,
  )
  const insert = db.prepare<[string, string, string, string, string]>(
    'INSERT OR IGNORE INTO user_tokens (user_id, token, token_hash, issued_at, delivered_at) VALUES (?, ?, ?, ?, ?)',
  )
  const byHash = db.prepare<[string], TokenRow>(
    `SELECT ${COLUMNS} FROM user_tokens WHERE token_hash = ? AND revoked_at IS NULL`,
  )
  const revoke = db.prepare<[string, string]>(
    'UPDATE user_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL',
  )
  const revokeHandedOutBefore = db.prepare<[string, string, string]>(
    `UPDATE user_tokens SET revoked_at = ?
     WHERE user_id = ? AND revoked_at IS NULL AND COALESCE(delivered_at, issued_at) <= ?`,
  )

  const saveIfNoneActive = db.transaction((userId: string, token: string) => {
    const at = now().toISOString()
    const existing = deliver.get(at, userId)
    if (existing) return { token: toToken(existing), created: false }
    if (insert.run(userId, token, tokenHash(token), at, at).changes === 0) {
      throw new Error('user token collision: issue a new random token')
    }
    const row = active.get(userId)
    if (!row) throw new Error('inserted user token not found')
    return { token: toToken(row), created: true }
  })

  return {
    findActive: (userId) => {
      const row = active.get(userId)
      return row && toToken(row)
    },
    deliverActive: (userId) => {
      const row = deliver.get(now().toISOString(), userId)
      return row && toToken(row)
    },
    saveIfNoneActive: (userId, token) => {
      if (token === '') throw new TypeError('userTokens.saveIfNoneActive: "token" must not be empty')
      return saveIfNoneActive.immediate(userId, token)
    },
    lookup: (token) => {
      const row = byHash.get(tokenHash(token))
      return row && toToken(row)
    },
    revokeAll: (userId, handedOutBefore) =>
      handedOutBefore === undefined
        ? revoke.run(now().toISOString(), userId).changes
        : revokeHandedOutBefore.run(now().toISOString(), userId, handedOutBefore).changes,
  }
}
