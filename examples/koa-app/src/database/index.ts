import {
  Kysely,
  type KyselyPlugin,
  type Kysely as KyselyType,
  type Migration,
  type MigrationProvider,
  Migrator,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresDialect,
  type QueryResult,
  type RootOperationNode,
  SqliteDialect,
  sql,
  type UnknownRow,
} from 'kysely'
import pg from 'pg'
import { openDatabase, type SqliteDatabase } from '../db.js'
import { rebuildReceiptTotals } from '../repositories/receipt-totals.js'
import { POSTGRES_SCHEMA } from './postgres-schema.js'
import type { Schema } from './schema.js'

export type { Schema } from './schema.js'

/** Which server holds the data. */
export type DatabaseKind = 'sqlite' | 'postgres'

/** The app's database behind one typed query builder. */
export interface AppDb {
  readonly kind: DatabaseKind
  readonly db: KyselyType<Schema>
  /** The better-sqlite3 connection on SQLite (`undefined` on PostgreSQL). */
  readonly sqlite: SqliteDatabase | undefined
  /** The better-sqlite3 connection; throws a `TypeError` on PostgreSQL (for SQLite-only tools and tests). */
  readonly sqliteFile: SqliteDatabase
  /** The pg pool on PostgreSQL (`undefined` on SQLite). */
  readonly pool: pg.Pool | undefined
  /** Where the data is, without credentials: a file path or `postgres://host:port/db`. */
  readonly location: string
  /**
   * Runs `fn` in one write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock is taken at
   * once, so a busy database fails fast and is retried whole), `READ COMMITTED` on PostgreSQL
   * (rows a concurrent transaction needs are serialised with {@link AppDb.lock}).
   */
  transaction<T>(fn: (trx: KyselyType<Schema>) => Promise<T>): Promise<T>
  /**
   * Inside a transaction: waits for, then holds until commit, a lock on `key` (a PostgreSQL
   * transaction advisory lock; nothing on SQLite, whose write transaction is already exclusive).
   */
  lock(trx: KyselyType<Schema>, key: string): Promise<void>
  /** Whether {@link AppDb.close} has not been called. */
  readonly open: boolean
  /** Closes the connection(s); safe to call twice. */
  close(): Promise<void>
}

/** Options of {@link openAppDb}. */
export interface OpenAppDbOptions {
  /** A `postgres://` or `postgresql://` URL: PostgreSQL. Otherwise SQLite at {@link path}. */
  url?: string | undefined
  /** SQLite file path or `':memory:'` (used when `url` is not set). */
  path?: string
  /** SQLite `busy_timeout` in ms (see `openDatabase`); a command-line tool may pass seconds. */
  busyTimeoutMs?: number
  /** Maximum connections of the PostgreSQL pool (default 10). */
  poolSize?: number
  /** PostgreSQL: milliseconds to wait for a connection before failing (default 5000). */
  connectTimeoutMs?: number
  /** Told about every query that returns rows (instrumentation: tests count the rows read). */
  queryObserver?: ((query: ObservedQuery) => void) | undefined
}

/** What {@link OpenAppDbOptions.queryObserver} is told about a query. */
export interface ObservedQuery {
  /** The Kysely node kind, e.g. `SelectQueryNode`. */
  readonly kind: string
  /** The first table the query reads or writes, when it names one. */
  readonly table: string | undefined
  /** Rows the database returned. */
  readonly rows: number
}

function tableOf(node: RootOperationNode): string | undefined {
  const n = node as {
    from?: { froms?: readonly OperationNode[] }
    into?: OperationNode
    table?: OperationNode
  }
  const first = n.from?.froms?.[0] ?? n.into ?? n.table
  const table =
    (first as { table?: { identifier?: { name?: string } }; node?: unknown } | undefined) ?? undefined
  const inner =
    (table as { node?: { table?: { identifier?: { name?: string } } } } | undefined)?.node ?? table
  return (inner as { table?: { identifier?: { name?: string } } } | undefined)?.table?.identifier?.name
}

/** A Kysely plugin reporting each query's kind, table and row count. */
function observerPlugin(observe: (query: ObservedQuery) => void): KyselyPlugin {
  const nodes = new WeakMap<object, RootOperationNode>()
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      nodes.set(args.queryId, args.node)
      return args.node
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const node = nodes.get(args.queryId)
      if (node !== undefined)
        observe({ kind: node.kind, table: tableOf(node), rows: args.result.rows.length })
      return args.result
    },
  }
}

function pluginsOf(options: OpenAppDbOptions): KyselyPlugin[] {
  return options.queryObserver === undefined ? [] : [observerPlugin(options.queryObserver)]
}

/**
 * Whether `url` names a PostgreSQL database.
 *
 * @example
 * ```ts
 * isPostgresUrl('postgres://127.0.0.1:5432/app') // true
 * ```
 */
export function isPostgresUrl(url: string | undefined): url is string {
  return typeof url === 'string' && /^postgres(ql)?:\/\//i.test(url)
}

/**
 * A URL without its password, for logs and banners.
 *
 * @example
 * ```ts
 * redactUrl('postgres://app:secret@db:5432/app') // 'postgres://app@db:5432/app'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    return parsed.toString()
  } catch {
    return 'postgres://(unparsable url)'
  }
}

/** Kysely migrations shared by both databases, applied in name order after the base schema. */
function migrationsFor(kind: DatabaseKind): Record<string, Migration> {
  return {
    // SQLite reaches the same schema through its own numbered steps (`MIGRATIONS`, kept so that
    // existing installs are migrated, not recreated); PostgreSQL starts from it directly.
    '0001_base_schema': {
      async up(db) {
        if (kind === 'postgres') await sql.raw(POSTGRES_SCHEMA).execute(db)
      },
    },
    // The library's RevocationStore over the database (revocations.ts): one mark per user.
    '0002_token_revocations': {
      async up(db) {
        await db.schema
          .createTable('token_revocations')
          .ifNotExists()
          .addColumn('user_id', 'text', (column) => column.notNull().primaryKey())
          .addColumn('revoked_before', 'bigint', (column) => column.notNull())
          .execute()
      },
    },
    '0003_running_totals': { up: (db) => addRunningTotals(db as KyselyType<Schema>) },
  }
}

/**
 * Subscriptions count their stored history (`history_size`, capped: see the subscriptions
 * repository), and receipts keep per-(user, store, quarter-hour) sales totals, maintained on
 * insert, so that neither an event nor a summary reads a whole history. Existing data is
 * counted and summed once, here.
 */
async function addRunningTotals(db: KyselyType<Schema>): Promise<void> {
  await db.schema
    .alterTable('subscriptions')
    .addColumn('history_size', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await sql`UPDATE subscriptions SET history_size = (
    SELECT COUNT(*) FROM subscription_events e
    WHERE e.user_id = subscriptions.user_id AND e.subscription_id = subscriptions.subscription_id)`.execute(
    db,
  )
  await db.schema
    .createTable('receipt_totals')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('store_id', 'text', (c) => c.notNull().modifyEnd(sql`COLLATE nocase`))
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('total', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('receipt_totals_pk', ['user_id', 'store_id', 'bucket'])
    .execute()
  await rebuildReceiptTotals(db)
}

/** Runs the Kysely migrations. PostgreSQL's migrator takes a lock: instances may start together. */
async function migrateToLatest(db: KyselyType<Schema>, kind: DatabaseKind): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrationsFor(kind) }
  const migrator = new Migrator({ db, provider })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message ?? error}`)
  }
}

// BIGINT (OID 20) as a JS number: the app's BIGINTs are millisecond clocks and sequence numbers.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value)
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads
    return (pg.types.getTypeParser as any)(oid, format)
  },
}

/**
 * Opens (creating the schema if needed) the app's database: SQLite (default; numbered steps for
 * existing files, then the Kysely migrator) or PostgreSQL when `url` is a `postgres://` URL.
 *
 * @param options - where the data is
 * @returns the open, migrated database
 * @throws Error when PostgreSQL cannot be reached or a migration fails
 * @example
 * ```ts
 * const data = await openAppDb({ url: process.env.DATABASE_URL, path: 'data/app.sqlite' })
 * await data.db.selectFrom('receipts').selectAll().execute()
 * await data.close()
 * ```
 */
export async function openAppDb(options: OpenAppDbOptions): Promise<AppDb> {
  if (isPostgresUrl(options.url)) return openPostgres(options.url, options)
  if (typeof options.path !== 'string' || options.path === '') {
    throw new TypeError(
      'openAppDb: option "path" must be a non-empty string when "url" is not a postgres URL',
    )
  }
  const file = openDatabase({
    path: options.path,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
  })
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: file.sqlite }),
    plugins: pluginsOf(options),
  })
  let open = true
  const data: AppDb = {
    kind: 'sqlite',
    db,
    sqlite: file.sqlite,
    sqliteFile: file.sqlite,
    pool: undefined,
    location: file.path,
    async transaction(fn) {
      return db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn)
        try {
          const result = await fn(conn)
          await sql`COMMIT`.execute(conn)
          return result
        } catch (error) {
          if (file.sqlite.inTransaction) await sql`ROLLBACK`.execute(conn)
          throw error
        }
      })
    },
    async lock() {},
    get open() {
      return open && file.sqlite.open
    },
    async close() {
      if (!open) return
      open = false
      await db.destroy()
      file.close()
    },
  }
  try {
    await migrateToLatest(db, 'sqlite')
  } catch (error) {
    await data.close()
    throw error
  }
  return data
}

async function openPostgres(url: string, options: OpenAppDbOptions): Promise<AppDb> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    types: pgTypes,
  })
  // A client losing its server must not crash the process, idle in the pool or checked out
  // between two queries of a transaction: the pending or next query reports it (then 503).
  pool.on('error', () => {})
  pool.on('connect', (client) => {
    client.on('error', () => {})
  })
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), plugins: pluginsOf(options) })
  let open = true
  const data: AppDb = {
    kind: 'postgres',
    db,
    sqlite: undefined,
    get sqliteFile(): SqliteDatabase {
      throw new TypeError('this database is PostgreSQL, not a SQLite file')
    },
    pool,
    location: redactUrl(url),
    transaction: (fn) => db.transaction().execute(fn),
    async lock(trx, key) {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx)
    },
    get open() {
      return open
    },
    async close() {
      if (!open) return
      open = false
      await db.destroy()
    },
  }
  try {
    await migrateToLatest(db, 'postgres')
  } catch (error) {
    await data.close()
    throw error
  }
  return data
}
