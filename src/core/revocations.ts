/**
 * Where "this user's partner tokens issued up to time T are refused" is kept (protocol §4.6:
 * tokens cannot be refreshed, so an uninstall must end them). One interface, so that the memory
 * default, Redis (`evotor-partner/redis`) and a partner's SQL table are interchangeable.
 */

/**
 * Anything with a per-user cache of verifications to drop when a user is revoked:
 * `createUserTokens()` and `createUserTokenLookup()` both are.
 *
 * @example
 * ```ts
 * import type { RevocableVerifier } from 'evotor-partner'
 * const verifier: RevocableVerifier = createUserTokens({ secret })
 * ```
 */
export interface RevocableVerifier {
  /** Drops the cached verifications of one user (called when any instance revokes them). */
  revokeUser(userId: string): void
  /** Called after a lost link to other instances comes back: revocations may have been missed. */
  clear?(): void
}

/**
 * A pluggable store of per-user **revoked-before marks**: a token of `userId` whose issue time is
 * at or before the mark (the same millisecond counts as before) is refused. The user tokens read
 * it on every verification that misses their cache; the webhook dispatcher writes it when an
 * `ApplicationUninstalled` event arrives.
 *
 * Implementations must make `revokeUser` an atomic "raise, never lower" (Redis: a Lua script;
 * SQL: `INSERT … ON CONFLICT DO UPDATE SET revoked_before = GREATEST(…)`), so that concurrent
 * revocations on several instances, and a late re-delivery of an old uninstall, keep the latest
 * mark. A store shared by several instances implements `attach` to make every instance drop its
 * cached verifications of a revoked user (pub/sub, `LISTEN/NOTIFY`).
 *
 * @example
 * ```ts
 * import type { RevocationStore } from 'evotor-partner'
 *
 * const marks = new Map<string, number>()
 * const store: RevocationStore = {
 *   async revokeUser(userId, before) {
 *     marks.set(userId, Math.max(marks.get(userId) ?? -Infinity, before.getTime()))
 *   },
 *   async revokedBefore(userId) {
 *     const ms = marks.get(userId)
 *     return ms === undefined ? undefined : new Date(ms)
 *   },
 * }
 * const tokens = createUserTokens({ secret, revocations: store })
 * ```
 */
export interface RevocationStore {
  /**
   * Raises `userId`'s mark to `before` (never lowers it), durably. Rejects when the store cannot
   * be written (then the uninstall is answered 503 and the cloud re-sends it).
   */
  revokeUser(userId: string, before: Date): Promise<void>
  /** The user's mark, or `undefined` when none was set. Rejects when the store cannot be read (fail closed). */
  revokedBefore(userId: string): Promise<Date | undefined>
  /**
   * Optional: makes `verifier` drop its cached verifications of a user revoked on ANY instance.
   * `createUserTokens` and `createUserTokenLookup` call it once with themselves. Returns a detach function.
   */
  attach?(verifier: RevocableVerifier): () => void
}

/**
 * Options of {@link createMemoryRevocationStore}.
 *
 * @example
 * ```ts
 * const options: MemoryRevocationStoreOptions = { verifiers: [] }
 * ```
 */
export interface MemoryRevocationStoreOptions {
  /** Verifiers to tell at once when a user is revoked (more can be attached later). */
  verifiers?: readonly RevocableVerifier[]
}

/**
 * Checks that `value` is a {@link RevocationStore}; `where` names the option for the TypeError.
 *
 * @internal
 */
export function checkRevocationStore(where: string, value: unknown): RevocationStore {
  const store = value as Partial<RevocationStore> | null
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.revokeUser !== 'function' ||
    typeof store.revokedBefore !== 'function' ||
    (store.attach !== undefined && typeof store.attach !== 'function')
  ) {
    throw new TypeError(`${where} must be a RevocationStore (revokeUser, revokedBefore) or false`)
  }
  return store as RevocationStore
}

/**
 * The default {@link RevocationStore}: marks in a `Map` of this process (one small entry per
 * uninstalled user, never evicted: dropping a mark would accept the user's old tokens again).
 * Lost on restart and not shared: with several instances or restarts that must keep
 * revocations, use `createRedisRevocations` (`evotor-partner/redis`) or a store over your database.
 *
 * @param options - Verifiers to tell at once (optional).
 * @returns A store whose `revokeUser` keeps the latest mark per user and drops attached caches.
 *
 * @example
 * ```ts
 * import { createMemoryRevocationStore, createUserTokens } from 'evotor-partner'
 *
 * const revocations = createMemoryRevocationStore()
 * const tokens = createUserTokens({ secret: process.env.TOKEN_SECRET!, revocations })
 * await revocations.revokeUser('01-000000000015463', new Date())
 * ```
 */
export function createMemoryRevocationStore(options: MemoryRevocationStoreOptions = {}): RevocationStore {
  const marks = new Map<string, number>()
  const verifiers = new Set<RevocableVerifier>(options.verifiers ?? [])
  return {
    async revokeUser(userId, before) {
      const at = before.getTime()
      if (typeof userId !== 'string' || userId === '' || !Number.isFinite(at)) {
        throw new TypeError(
          'RevocationStore.revokeUser: userId must be a non-empty string and before a valid Date',
        )
      }
      const current = marks.get(userId)
      if (current === undefined || current < at) marks.set(userId, at)
      for (const verifier of verifiers) verifier.revokeUser(userId)
    },
    async revokedBefore(userId) {
      const ms = marks.get(userId)
      return ms === undefined ? undefined : new Date(ms)
    },
    attach(verifier) {
      verifiers.add(verifier)
      return () => {
        verifiers.delete(verifier)
      }
    },
  }
}

/** Marks further ahead than this are not chased by `issue()` (a clock far off, or a fail-closed mark). */
const MAX_MARK_LEAD_MS = 60_000

/**
 * The issue time for a new token: `now`, or just after the user's mark when the mark is at or
 * after `now` (an uninstall and a reinstall's `user/create` in the same millisecond, or another
 * instance's clock slightly ahead): a token handed out after a revocation must never be refused
 * by it.
 *
 * @internal
 */
export function issueTimeAfter(now: number, mark: Date | undefined): number {
  if (mark === undefined) return now
  const ms = mark.getTime()
  return ms >= now && ms - now < MAX_MARK_LEAD_MS ? ms + 1 : now
}
