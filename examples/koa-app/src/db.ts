import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations.js'

/** The SQLite connection type used across the app. */
export type SqliteDatabase = Database.Database

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** File path, or `':memory:'`. The parent directory is created when missing. */
  path: string
  /** Milliseconds a writer waits for a lock held by another connection. Default 5000. */
  busyTimeoutMs?: number
  /** Migrations to apply; defaults to the app's {@link MIGRATIONS}. */
  migrations?: readonly string[]
}

/** An open, migrated database. */
export interface AppDatabase {
  readonly sqlite: SqliteDatabase
  readonly path: string
  /** Schema version after migrations (`PRAGMA user_version`). */
  readonly version: number
  /** Closes the connection; safe to call twice. */
  close(): void
}

/**
 * Opens (creating if needed) the SQLite database, enables WAL, foreign keys and a busy timeout,
 * and applies pending migrations, each in its own transaction together with its
 * `user_version` bump so a crash never leaves a half-applied step.
 *
 * @example
 * ```ts
 * const db = openDatabase({ path: 'data/app.sqlite' })
 * db.sqlite.prepare('SELECT 1').get()
 * db.close()
 * ```
 */
export function openDatabase(options: OpenDatabaseOptions): AppDatabase {
  if (typeof options.path !== 'string' || options.path === '') {
    throw new TypeError('openDatabase: option "path" must be a non-empty string')
  }
  const { path } = options
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const sqlite = new Database(path)
  try {
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`)
    sqlite.pragma('synchronous = NORMAL')
    const version = migrate(sqlite, options.migrations ?? MIGRATIONS)
    return {
      sqlite,
      path,
      version,
      close() {
        if (sqlite.open) sqlite.close()
      },
    }
  } catch (error) {
    sqlite.close()
    throw error
  }
}

function migrate(sqlite: SqliteDatabase, migrations: readonly string[]): number {
  const apply = sqlite.transaction((index: number, sql: string) => {
    // Re-check inside the write transaction: another process may have migrated meanwhile.
    if (currentVersion(sqlite) !== index) return
    sqlite.exec(sql)
    sqlite.pragma(`user_version = ${index + 1}`)
  })
  const start = currentVersion(sqlite)
  if (start > migrations.length) {
    throw new Error(`database schema version ${start} is newer than this app (${migrations.length})`)
  }
  for (let index = start; index < migrations.length; index++) {
    apply.immediate(index, migrations[index] ?? '')
  }
  return currentVersion(sqlite)
}

function currentVersion(sqlite: SqliteDatabase): number {
  return Number(sqlite.pragma('user_version', { simple: true }))
}
