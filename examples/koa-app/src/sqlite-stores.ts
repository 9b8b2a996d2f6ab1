import type { ClaimResult, IdempotencyStore, SequenceStore } from 'evotor-partner'
import type { SqliteDatabase } from './db.js'
import { type BusyRetryOptions, retryWhileBusy } from './util/busy.js'

/** Seven days: longer than Evotor's three days of retries (protocol §5.1). */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000

/** Options of {@link createSqliteIdempotencyStore}. */
export interface SqliteIdempotencyStoreOptions {
  /** A migrated database (see `openDatabase`). */
  db: SqliteDatabase
  /** How long `done` keys are remembered. Default 7 days. */
  retentionMs?: number
  /** Minimum time between automatic prunes run by `claim`. Default one hour. */
  pruneIntervalMs?: number
  /** Clock; injectable for tests. */
  now?: () => Date
}

/** The SQLite idempotency store, plus maintenance. */
export interface SqliteIdempotencyStore extends IdempotencyStore {
  claim(key: string, leaseMs: number): ClaimResult
  complete(key: string): void
  release(key: string): void
  /** Deletes `done` keys (and abandoned claims) older than the retention; returns how many. */
  prune(): number
}

/**
 * An {@link IdempotencyStore} in SQLite, so "already handled" survives restarts and is shared
 * by every process using the same file. `claim` is one upsert inside an immediate transaction:
 * a new key or an expired lease is claimed, a live lease answers `in-progress`, a completed
 * key answers `done`.
 *
 * @example
 * ```ts
 * const idempotency = createSqliteIdempotencyStore({ db: db.sqlite })
 * if (idempotency.claim('receipt:42', 30_000) === 'claimed') {
 *   try { handle(); idempotency.complete('receipt:42') } catch (e) { idempotency.release('receipt:42'); throw e }
 * }
 * ```
 */
export function createSqliteIdempotencyStore(options: SqliteIdempotencyStoreOptions): SqliteIdempotencyStore {
  const { db } = options
  if (typeof db?.prepare !== 'function') {
    throw new TypeError('createSqliteIdempotencyStore: option "db" must be an open better-sqlite3 database')
  }
  const retentionMs = options.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS
  if (!Number.isFinite(retentionMs) || retentionMs <= 0) {
    throw new TypeError('createSqliteIdempotencyStore: option "retentionMs" must be a positive number')
  }
  const pruneIntervalMs = options.pruneIntervalMs ?? 60 * 60 * 1000
  if (!Number.isFinite(pruneIntervalMs) || pruneIntervalMs < 0) {
    throw new TypeError(
      'createSqliteIdempotencyStore: option "pruneIntervalMs" must be a non-negative number',
    )
  }
  const clock = options.now ?? (() => new Date())
  const now = (): number => clock().getTime()

  const upsertClaim = db.prepare<[{ key: string; lease: number; now: number }]>(
    `INSERT INTO idempotency_keys (key, state, lease_until, updated_at) VALUES (@key, 'claimed', @lease, @now)
     ON CONFLICT (key) DO UPDATE SET lease_until = excluded.lease_until, updated_at = excluded.updated_at
     WHERE idempotency_keys.state = 'claimed' AND idempotency_keys.lease_until <= excluded.updated_at`,
  )
  const stateOf = db.prepare<[string], string>('SELECT state FROM idempotency_keys WHERE key = ?').pluck()
  const markDone = db.prepare<[string, number]>(
    `INSERT INTO idempotency_keys (key, state, lease_until, updated_at) VALUES (?, 'done', 0, ?)
     ON CONFLICT (key) DO UPDATE SET state = 'done', lease_until = 0, updated_at = excluded.updated_at`,
  )
  const releaseClaim = db.prepare<[string]>(
    "DELETE FROM idempotency_keys WHERE key = ? AND state = 'claimed'",
  )
  const pruneOld = db.prepare<[{ before: number }]>(
    `DELETE FROM idempotency_keys
     WHERE (state = 'done' AND updated_at < @before) OR (state = 'claimed' AND lease_until < @before)`,
  )

  const claimTx = db.transaction((key: string, leaseMs: number): ClaimResult => {
    const at = now()
    if (upsertClaim.run({ key, lease: at + leaseMs, now: at }).changes === 1) return 'claimed'
    return stateOf.get(key) === 'done' ? 'done' : 'in-progress'
  })

  let lastPrune = Number.NEGATIVE_INFINITY
  const prune = (): number => {
    lastPrune = now()
    return pruneOld.run({ before: lastPrune - retentionMs }).changes
  }

  return {
    claim(key, leaseMs) {
      if (typeof key !== 'string' || key === '')
        throw new TypeError('claim: "key" must be a non-empty string')
      if (!Number.isFinite(leaseMs) || leaseMs <= 0)
        throw new TypeError('claim: "leaseMs" must be a positive number')
      if (now() - lastPrune >= pruneIntervalMs) prune()
      return claimTx.immediate(key, leaseMs)
    },
    complete(key) {
      markDone.run(key, now())
    },
    release(key) {
      releaseClaim.run(key)
    },
    prune,
  }
}

/** Options of {@link createSqliteSequenceStore}. */
export interface SqliteSequenceStoreOptions {
  /** A migrated database (see `openDatabase`). */
  db: SqliteDatabase
}

/** The SQLite sequence store (synchronous). */
export interface SqliteSequenceStore extends SequenceStore {
  getLastHandled(subscriptionId: string): number | undefined
  setLastHandled(subscriptionId: string, sequenceNumber: number): void
}

/**
 * A {@link SequenceStore} in SQLite: the last handled `sequenceNumber` per subscription
 * survives restarts. `setLastHandled` never lowers the stored value (`MAX` in the upsert), so
 * a late, older event cannot rewind the ordering.
 *
 * @example
 * ```ts
 * const sequences = createSqliteSequenceStore({ db: db.sqlite })
 * sequences.setLastHandled('a99fbf70-6307-4acc-b61c-741ee9eef6c0', 4)
 * sequences.getLastHandled('a99fbf70-6307-4acc-b61c-741ee9eef6c0') // 4
 * ```
 */
export function createSqliteSequenceStore(options: SqliteSequenceStoreOptions): SqliteSequenceStore {
  const { db } = options
  if (typeof db?.prepare !== 'function') {
    throw new TypeError('createSqliteSequenceStore: option "db" must be an open better-sqlite3 database')
  }
  const select = db
    .prepare<[string], number>('SELECT last_handled FROM subscription_sequences WHERE subscription_id = ?')
    .pluck()
  const upsert = db.prepare<[string, number]>(
    `INSERT INTO subscription_sequences (subscription_id, last_handled) VALUES (?, ?)
     ON CONFLICT (subscription_id) DO UPDATE SET last_handled = MAX(last_handled, excluded.last_handled)`,
  )
  return {
    getLastHandled: (subscriptionId) => select.get(subscriptionId),
    setLastHandled(subscriptionId, sequenceNumber) {
      if (!Number.isSafeInteger(sequenceNumber)) {
        throw new TypeError('setLastHandled: "sequenceNumber" must be an integer')
      }
      upsert.run(subscriptionId, sequenceNumber)
    },
  }
}

/**
 * The SQLite stores as the dispatcher should use them in a server: every call is retried without
 * blocking while another process holds the database lock ({@link retryWhileBusy}), and answers
 * 503 + `Retry-After` when the lock outlasts the budget, so the cloud re-sends the delivery.
 * The keys stay opaque: they are the strings the library builds.
 *
 * @param stores - the synchronous SQLite stores
 * @param options - retry budget and `Retry-After`
 * @returns asynchronous stores for `createEvotorWebhooks`
 * @example
 * ```ts
 * const { idempotency, sequences } = retryingStores({
 *   idempotency: createSqliteIdempotencyStore({ db: db.sqlite }),
 *   sequences: createSqliteSequenceStore({ db: db.sqlite }),
 * })
 * ```
 */
export function retryingStores(
  stores: { idempotency: SqliteIdempotencyStore; sequences: SqliteSequenceStore },
  options: BusyRetryOptions = {},
): { idempotency: IdempotencyStore; sequences: SequenceStore } {
  const { idempotency, sequences } = stores
  const retry = <T>(fn: () => T): Promise<T> => retryWhileBusy(fn, options)
  return {
    idempotency: {
      claim: (key, leaseMs) => retry(() => idempotency.claim(key, leaseMs)),
      complete: (key) => retry(() => idempotency.complete(key)),
      release: (key) => retry(() => idempotency.release(key)),
    },
    sequences: {
      getLastHandled: (subscriptionId) => retry(() => sequences.getLastHandled(subscriptionId)),
      setLastHandled: (subscriptionId, sequenceNumber) =>
        retry(() => sequences.setLastHandled(subscriptionId, sequenceNumber)),
    },
  }
}
