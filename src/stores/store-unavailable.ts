import { EvotorError } from '../core/evotor-error.js'

const RETRY_AFTER_SECONDS = 60

/**
 * A shared store (Redis, a database) did not answer in time or refused the command. It is an
 * {@link EvotorError} with status 503 and `Retry-After`, so the webhook dispatcher and the proxy
 * middleware answer `503` and the Evotor cloud re-sends the delivery later: shared state fails
 * closed, never `200` for work that was not done (protocol §5.1). `expose` is false and the
 * message names only the store and the operation, never a key, a token or a connection string.
 *
 * @example
 * ```ts
 * import { StoreUnavailableError } from 'evotor-partner/redis'
 * try {
 *   await revocations.revokeUser(userId)
 * } catch (error) {
 *   if (error instanceof StoreUnavailableError) return { status: 503 } // the cloud re-sends the uninstall
 *   throw error
 * }
 * ```
 */
export class StoreUnavailableError extends EvotorError {
  /** Which store failed (`'redis'`). */
  readonly store: string
  /** What it was doing (`'claim'`, `'setLastHandled'` …). */
  readonly operation: string

  /**
   * @param store - Which store failed, e.g. `'redis'`.
   * @param operation - What it was asked to do, e.g. `'claim'`.
   * @param cause - The client's error, kept for logs that choose to print it.
   */
  constructor(store: string, operation: string, cause?: unknown) {
    super(undefined, {
      status: 503,
      message: `${store} store unavailable (${operation})`,
      expose: false,
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      ...(cause === undefined ? {} : { cause }),
    })
    this.name = 'StoreUnavailableError'
    this.store = store
    this.operation = operation
  }
}
