import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { MIGRATIONS, type Migration } from './migrations.js'

/** The SQLite connection type used across the app. */
export type SqliteDatabase = Database.Database

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** File path, or `':memory:'`. The parent directory is created when missing. */
  path: string
  /**
   * Milliseconds a statement waits, blocking the thread, for a lock held by another connection
   * (`PRAGMA busy_timeout`). Default {@link DEFAULT_BUSY_TIMEOUT_MS} (25): better-sqlite3 is
   * synchronous, so a server must keep this small and retry asynchronously (see
   * `retryWhileBusy`); a command-line tool may pass seconds.
   */
  busyTimeoutMs?: number
  /** How long opening waits for a lock while it migrates (default 5000 ms, once at start-up). */
  migrationBusyTimeoutMs?: number
  /** Migrations to apply; defaults to the app's {@link MIGRATIONS}. */
  migrations?: readonly Migration[]
}

/** Default `busy_timeout` of {@link openDatabase}: short, so a lock never stalls the event loop long. */
export const DEFAULT_BUSY_TIMEOUT_MS = 25

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
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.migrationBusyTimeoutMs ?? 5000))}`)
    sqlite.pragma('synchronous = NORMAL')
    const version = migrate(sqlite, options.migrations ?? MIGRATIONS)
    sqlite.pragma(
      `busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`,
    )
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

function migrate(sqlite: SqliteDatabase, migrations: readonly Migration[]): number {
  const apply = sqlite.transaction((index: number, step: Migration) => {
    // Re-check inside the write transaction: another process may have migrated meanwhile.
    if (currentVersion(sqlite) !== index) return
    if (typeof step === 'function') step(sqlite)
    else sqlite.exec(step)
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
