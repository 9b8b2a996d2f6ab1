import { setTimeout as sleep } from 'node:timers/promises'
import { EvotorError } from 'evotor-partner'

/** Options of {@link retryWhileBusy}. */
export interface BusyRetryOptions {
  /**
   * How long, in total, a write keeps retrying a database locked by another process before it
   * gives up with 503. Default {@link DEFAULT_BUSY_RETRY_MS} (1500 ms): well inside the cloud's
   * 10 s deadline, and the cloud re-sends a 503 later anyway.
   */
  budgetMs?: number
  /** `Retry-After` of the 503, in seconds. Default 5. */
  retryAfterSeconds?: number
}

/** Default {@link BusyRetryOptions.budgetMs}. */
export const DEFAULT_BUSY_RETRY_MS = 1500

/**
 * Whether `error` is SQLite's "the database is locked by another connection" (`SQLITE_BUSY`,
 * `SQLITE_BUSY_SNAPSHOT`, …, or `SQLITE_LOCKED`).
 *
 * @param error - anything thrown by better-sqlite3
 * @returns `true` for a lock conflict that a later retry may get past
 * @example
 * ```ts
 * try { repos.receipts.insert(userId, body) } catch (e) { if (isBusyError(e)) retryLater() }
 * ```
 */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/**
 * The answer when the database stays locked: 503 with `Retry-After` and an Evotor error body,
 * so the cloud re-sends the delivery later (protocol §5.1) instead of the request waiting.
 *
 * @param retryAfterSeconds - the `Retry-After` value
 * @returns the error to throw from a handler
 * @example
 * ```ts
 * throw databaseBusyError(5) // 503 {"errors":[{"reason":"unavailable","subject":"database"}]}
 * ```
 */
export function databaseBusyError(retryAfterSeconds = 5): EvotorError {
  return new EvotorError(undefined, {
    status: 503,
    reason: 'unavailable',
    subject: 'database',
    message: 'the database is locked by another process; retry later',
    headers: { 'retry-after': String(retryAfterSeconds) },
  })
}

/**
 * Runs a synchronous database write, retrying it while another process holds the write lock.
 * better-sqlite3 blocks the thread for up to `busy_timeout` per try (25 ms in this app, see
 * `openDatabase`), so between tries this yields to the event loop (10, 20, 40, … ms, at most
 * 100 ms): other requests, `/health` included, are served meanwhile. When the budget is spent it
 * throws {@link databaseBusyError} (503 + `Retry-After`). Other errors are thrown at once.
 * `fn` must be a whole transaction (it is run again from the start).
 *
 * @param fn - the write, e.g. `() => repos.receipts.insert(userId, body)`
 * @param options - budget and `Retry-After`
 * @returns what `fn` returns
 * @throws EvotorError 503 when the database stays locked for the whole budget
 * @example
 * ```ts
 * const counts = await retryWhileBusy(() => repos.receipts.insert(userId, body))
 * ```
 */
export async function retryWhileBusy<T>(fn: () => T, options: BusyRetryOptions = {}): Promise<T> {
  const budgetMs = options.budgetMs ?? DEFAULT_BUSY_RETRY_MS
  const deadline = Date.now() + budgetMs
  let delay = 10
  for (;;) {
    try {
      return fn()
    } catch (error) {
      if (!isBusyError(error)) throw error
      if (Date.now() + delay > deadline) throw databaseBusyError(options.retryAfterSeconds)
    }
    await sleep(delay)
    delay = Math.min(delay * 2, 100)
  }
}
