import {
  createUserTokenLookup,
  createUserTokens,
  type RevocationStore,
  type UserTokenLookup,
  type UserTokens,
} from 'evotor-partner'
import type { UserTokensRepository } from './repositories/index.js'
import { type BusyRetryOptions, retryWhileBusy } from './util/busy.js'

/** Options of {@link createPartnerTokens}. */
export interface PartnerTokensOptions {
  /** `USER_TOKEN_SECRET` entries: the first signs, all verify (rotation). */
  secrets: readonly [string, ...string[]]
  /** Where issued tokens live; its `lookup` sees only tokens that are not revoked. */
  userTokens: UserTokensRepository
  /** Verification cache (default: 10 000 tokens for 60 s). */
  cache?: { max?: number; ttl?: number }
  /** How token writes retry while another process holds the database lock (then 503). */
  busyRetry?: BusyRetryOptions
  /**
   * Where uninstalls revoke the user's tokens (`createDatabaseRevocations`): the webhook
   * dispatcher calls it on `ApplicationUninstalled`, and it tells the other instances.
   */
  revocations?: RevocationStore
}

/** Issuing and verifying the partner user tokens handed to Evotor (protocol §4.1). */
export interface PartnerTokens {
  /**
   * The user's token: the active one when there is one (a retried `user/create` gets the same
   * token, protocol §11 A56), otherwise a new one, stored before it is returned. Either way the
   * token is recorded as handed out now, so an `ApplicationUninstalled` that happened earlier but
   * arrives later leaves it active.
   */
  tokenFor(userId: string): Promise<string>
  /** The verifier for the webhooks dispatcher and the proxy middleware. */
  readonly verifier: UserTokenLookup
}

/**
 * User tokens are signed by the library's `createUserTokens` (≤ 128 chars of `[A-Za-z0-9_-]`,
 * protocol §4.3) and are ALSO stored: verification checks the signature first (no database hit
 * for garbage) and then that the token is still active in SQLite, so a revocation on
 * `ApplicationUninstalled` holds across restarts. Positive verifications are cached per
 * process: the process that applied the uninstall forgets them at once, but another process
 * sharing the file keeps accepting a revoked token from its cache for up to the cache TTL
 * (60 s by default).
 *
 * @example
 * ```ts
 * const tokens = createPartnerTokens({ secrets: ['a-secret-of-at-least-32-characters…'], userTokens: repos.userTokens })
 * const token = await tokens.tokenFor('01-000000000000001')
 * await tokens.verifier.verify(token) // { userId: '01-000000000000001' }
 * ```
 */
export function createPartnerTokens(options: PartnerTokensOptions): PartnerTokens {
  const { userTokens } = options
  if (typeof userTokens?.lookup !== 'function') {
    throw new TypeError('createPartnerTokens: option "userTokens" must be the user tokens repository')
  }
  // The signature layer never caches: the lookup cache below is the only one to invalidate.
  // No marks here either: the stored tokens (flagged by the revocation store) are the durable check.
  const signed: UserTokens = createUserTokens({
    secret: [...options.secrets],
    cache: false,
    revocations: false,
  })
  const verifier = createUserTokenLookup({
    async lookup(token) {
      try {
        await signed.verify(token)
      } catch {
        return null
      }
      // An unreachable database is a 503 (the cloud retries), not a refused token.
      return (await retryWhileBusy(() => userTokens.lookup(token), options.busyRetry))?.userId ?? null
    },
    // Negative answers are not cached: a token saved a moment ago must verify at once.
    cache: { ...options.cache, negativeTtl: 0 },
    ...(options.revocations === undefined ? {} : { revocations: options.revocations }),
  })
  return {
    async tokenFor(userId) {
      // Recorded as handed out now: a delayed uninstall older than this must not revoke it (§4.6).
      const active = await retryWhileBusy(() => userTokens.deliverActive(userId), options.busyRetry)
      if (active !== undefined) return active.token
      // Signed before the write transaction: the lock is held for the insert only.
      const fresh = await signed.issue(userId)
      return (await retryWhileBusy(() => userTokens.saveIfNoneActive(userId, fresh), options.busyRetry)).token
        .token
    },
    verifier,
  }
}
