import type { RepositoryContext } from './context.js'

/** Key-value settings persisted in the database (development secrets, flags). */
export interface SettingsRepository {
  get(key: string): string | undefined
  set(key: string, value: string): void
  /** Stores `value` unless the key exists; returns the stored value either way (atomic). */
  getOrInsert(key: string, value: string): string
  delete(key: string): boolean
}

/**
 * Creates the settings repository.
 *
 * @example
 * ```ts
 * const settings = createSettingsRepository({ db: db.sqlite, now: () => new Date() })
 * const secret = settings.getOrInsert('dev.userTokenSecret', randomSecret())
 * ```
 */
export function createSettingsRepository(ctx: RepositoryContext): SettingsRepository {
  const { db, now } = ctx
  const select = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck()
  const upsert = db.prepare<[string, string, string]>(
    'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  )
  const insertIgnore = db.prepare<[string, string, string]>(
    'INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)',
  )
  const remove = db.prepare<[string]>('DELETE FROM settings WHERE key = ?')
  const getOrInsert = db.transaction((key: string, value: string): string => {
    insertIgnore.run(key, value, now().toISOString())
    return select.get(key) ?? value
  })

  return {
    get: (key) => select.get(key),
    set: (key, value) => {
      upsert.run(key, value, now().toISOString())
    },
    getOrInsert: (key, value) => getOrInsert.immediate(key, value),
    delete: (key) => remove.run(key).changes > 0,
  }
}
