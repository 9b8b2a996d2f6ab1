import type { RepositoryContext } from './context.js'

/** The Evotor cloud token of one user (for `X-Authorization` on REST calls, protocol §4.5). */
export interface EvotorCloudToken {
  readonly userId: string
  readonly token: string
  readonly updatedAt: string
}

/** Evotor cloud tokens received on `user/token`. */
export interface EvotorTokensRepository {
  /** Upsert: the latest delivery wins (protocol §4.5). Returns whether the value changed. */
  save(userId: string, token: string): boolean
  get(userId: string): EvotorCloudToken | undefined
}

/**
 * Creates the Evotor-cloud-token repository.
 *
 * @example
 * ```ts
 * const evotorTokens = createEvotorTokensRepository({ db: db.sqlite, now: () => new Date() })
 * evotorTokens.save(body.userId, body.token)
 * ```
 */
export function createEvotorTokensRepository(ctx: RepositoryContext): EvotorTokensRepository {
  const { db, now } = ctx
  const upsert = db.prepare<[string, string, string]>(
    `INSERT INTO evotor_tokens (user_id, token, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at
     WHERE evotor_tokens.token IS NOT excluded.token`,
  )
  const select = db.prepare<[string], { user_id: string; token: string; updated_at: string }>(
    'SELECT user_id, token, updated_at FROM evotor_tokens WHERE user_id = ?',
  )
  return {
    save: (userId, token) => upsert.run(userId, token, now().toISOString()).changes > 0,
    get: (userId) => {
      const row = select.get(userId)
      return row && { userId: row.user_id, token: row.token, updatedAt: row.updated_at }
    },
  }
}
