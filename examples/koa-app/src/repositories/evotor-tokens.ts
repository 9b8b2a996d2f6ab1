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
  save(userId: string, token: string): Promise<boolean>
  get(userId: string): Promise<EvotorCloudToken | undefined>
}

/**
 * Creates the Evotor-cloud-token repository.
 *
 * @example
 * ```ts
 * const evotorTokens = createEvotorTokensRepository({ data, db: data.db, now: () => new Date() })
 * await evotorTokens.save(body.userId, body.token)
 * ```
 */
export function createEvotorTokensRepository(ctx: RepositoryContext): EvotorTokensRepository {
  const { db, now } = ctx
  return {
    async save(userId, token) {
      const updated_at = now().toISOString()
      const result = await db
        .insertInto('evotor_tokens')
        .values({ user_id: userId, token, updated_at })
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet({ token, updated_at }).where('evotor_tokens.token', '<>', token),
        )
        .executeTakeFirst()
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n
    },
    async get(userId) {
      const row = await db
        .selectFrom('evotor_tokens')
        .select(['user_id', 'token', 'updated_at'])
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row && { userId: row.user_id, token: row.token, updatedAt: row.updated_at }
    },
  }
}
