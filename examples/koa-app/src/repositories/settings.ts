import type { RepositoryContext } from './context.js'

/** Key-value settings persisted in the database (development secrets, flags). */
export interface SettingsRepository {
  get(key: string): Promise<string | undefined>
  set(key: string, value: string): Promise<void>
  /** Stores `value` unless the key exists; returns the stored value either way (atomic). */
  getOrInsert(key: string, value: string): Promise<string>
  delete(key: string): Promise<boolean>
}

/**
 * Creates the settings repository.
 *
 * @example
 * ```ts
 * const settings = createSettingsRepository({ data, db: data.db, now: () => new Date() })
 * const secret = await settings.getOrInsert('dev.userTokenSecret', randomSecret())
 * ```
 */
export function createSettingsRepository(ctx: RepositoryContext): SettingsRepository {
  const { db, now } = ctx
  const get = async (key: string): Promise<string | undefined> =>
    (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value
  return {
    get,
    async set(key, value) {
      const updated_at = now().toISOString()
      await db
        .insertInto('settings')
        .values({ key, value, updated_at })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at }))
        .execute()
    },
    async getOrInsert(key, value) {
      await db
        .insertInto('settings')
        .values({ key, value, updated_at: now().toISOString() })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute()
      return (await get(key)) ?? value
    },
    async delete(key) {
      const result = await db.deleteFrom('settings').where('key', '=', key).executeTakeFirst()
      return result.numDeletedRows > 0n
    },
  }
}
