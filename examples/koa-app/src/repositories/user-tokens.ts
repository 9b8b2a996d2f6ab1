import { createHash } from 'node:crypto'
import type { RepositoryContext } from './context.js'

/** A partner user token issued to Evotor for one Evotor user. */
export interface IssuedUserToken {
  readonly userId: string
  readonly token: string
  readonly issuedAt: string
  readonly revokedAt: string | null
}

/** Partner user tokens (the `token` of `user/create` and `user/verify`). */
export interface UserTokensRepository {
  /** The user's active (not revoked) token, if any. */
  findActive(userId: string): IssuedUserToken | undefined
  /**
   * Stores a freshly issued token unless the user already has an active one, and returns the
   * active token. Concurrent or retried `user/create` calls therefore all answer with the same
   * token (protocol §11 A56); at most one token per user is active.
   */
  saveIfNoneActive(userId: string, token: string): { token: IssuedUserToken; created: boolean }
  /** The token's record when it exists and is not revoked (lookup for request authorization). */
  lookup(token: string): IssuedUserToken | undefined
  /** Revokes every active token of the user; returns how many were revoked. */
  revokeAll(userId: string): number
}

interface TokenRow {
  user_id: string
  token: string
  issued_at: string
  revoked_at: string | null
}

function toToken(row: TokenRow): IssuedUserToken {
  return { userId: row.user_id, token: row.token, issuedAt: row.issued_at, revokedAt: row.revoked_at }
}

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
    'SELECT user_id, token, issued_at, revoked_at FROM user_tokens WHERE user_id = ? AND revoked_at IS NULL',
  )
  const insert = db.prepare<[string, string, string, string]>(
    'INSERT OR IGNORE INTO user_tokens (user_id, token, token_hash, issued_at) VALUES (?, ?, ?, ?)',
  )
  const byHash = db.prepare<[string], TokenRow>(
    'SELECT user_id, token, issued_at, revoked_at FROM user_tokens WHERE token_hash = ? AND revoked_at IS NULL',
  )
  const revoke = db.prepare<[string, string]>(
    'UPDATE user_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL',
  )

  const saveIfNoneActive = db.transaction((userId: string, token: string) => {
    const existing = active.get(userId)
    if (existing) return { token: toToken(existing), created: false }
    if (insert.run(userId, token, tokenHash(token), now().toISOString()).changes === 0) {
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
    saveIfNoneActive: (userId, token) => {
      if (token === '') throw new TypeError('userTokens.saveIfNoneActive: "token" must not be empty')
      return saveIfNoneActive.immediate(userId, token)
    },
    lookup: (token) => {
      const row = byHash.get(tokenHash(token))
      return row && toToken(row)
    },
    revokeAll: (userId) => revoke.run(now().toISOString(), userId).changes,
  }
}
