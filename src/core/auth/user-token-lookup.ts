import { EvotorError } from '../evotor-error.js'
import { checkRevocationStore, type RevocationStore } from '../revocations.js'
import {
  duration,
  optionalFunction,
  positiveInteger,
  type UserTokenCacheOptions,
  type UserTokenVerifier,
  VerificationCache,
  type VerifiedUserToken,
} from './user-token-verifier.js'

const FACTORY = 'createUserTokenLookup'
/** Longer values are rejected with 1002 before `lookup` runs (they would only bloat the cache). */
const MAX_OPAQUE_TOKEN_LENGTH = 1024

/**
 * What `lookup` resolves to: the user (as `{ userId, expiresAt?, issuedAt? }` or just the userId
 * string), or `null`/`undefined` for an unknown token. `issuedAt` (when the token was handed to
 * Evotor) is compared with the `revocations` mark; without it, the mark does not apply.
 *
 * @example
 * ```ts
 * const found: UserTokenLookupResult = { userId: '01-000000000015463' }
 * ```
 */
export type UserTokenLookupResult =
  | { userId: string; expiresAt?: Date; issuedAt?: Date }
  | string
  | null
  | undefined

/**
 * Options of {@link createUserTokenLookup}.
 *
 * @example
 * ```ts
 * const options: UserTokenLookupOptions = {
 *   lookup: async (token) => (await db.findUserByToken(token))?.userId,
 *   cache: { ttl: 30_000, negativeTtl: 2_000 },
 * }
 * ```
 */
export interface UserTokenLookupOptions {
  /**
   * Finds the user of an opaque token that the partner issued and stored. Called at most once at
   * a time per token. A throw (database down) is passed through as-is and is not cached.
   */
  lookup: (token: string) => Promise<UserTokenLookupResult> | UserTokenLookupResult
  /**
   * Cache bounds. Default `{ max: 10_000, ttl: 60_000, negativeTtl: 5_000 }`; `negativeTtl` (ms)
   * is how long an unknown token is remembered as unknown (`0`: not at all).
   */
  cache?: (UserTokenCacheOptions & { negativeTtl?: number }) | false
  /** Clock in ms since the epoch, for tests. Default `Date.now`. */
  now?: () => number
  /**
   * Where revocations are kept (see `RevocationStore`); default none, since only your tokens'
   * store knows them. With one, the webhook dispatcher calls its `revokeUser(userId, before)` on
   * `ApplicationUninstalled`: make it delete or flag the user's tokens handed out before
   * `before`, or return `issuedAt` from `lookup` so that the mark is compared here.
   */
  revocations?: RevocationStore
}

/**
 * A {@link UserTokenVerifier} over partner-stored opaque tokens. See {@link createUserTokenLookup}.
 *
 * @example
 * ```ts
 * const tokens: UserTokenLookup = createUserTokenLookup({ lookup: findUserByToken })
 * tokens.size // entries cached right now
 * ```
 */
export interface UserTokenLookup extends UserTokenVerifier {
  /**
   * The cached result of a successful, unexpired, unrevoked `verify(token)`, or `undefined`
   * (not cached, a cached miss, or `cache: false`): a synchronous look-up that never calls `lookup`.
   */
  peek(token: string): VerifiedUserToken | undefined
  /** Drops every cached verification and miss. */
  clear(): void
  /** Number of cached entries, hits and misses together (read-only; at most `cache.max`). */
  readonly size: number
}

/**
 * Verifies opaque partner user tokens (for example 32 random bytes as base64url, protocol §4.3)
 * that the partner stored with their user. Lookups go through an in-memory LRU with a TTL;
 * unknown tokens are remembered for `negativeTtl`; concurrent verifications of one token share a
 * single `lookup` call. `revokeToken()` / `revokeUser()` take effect at once, also against a
 * lookup still in flight (its result is not cached).
 *
 * `verify()` rejects with `EvotorError` 1002 (unknown token) or 1003 (`expiresAt` in the past); a
 * failing `lookup` rejects with its own error, which the dispatcher answers with 500.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto'
 * import { createUserTokenLookup } from 'evotor-partner'
 *
 * const issue = async (userId: string) => {
 *   const token = randomBytes(32).toString('base64url') // 43 characters of [A-Za-z0-9_-]
 *   await db.saveToken(token, userId)
 *   return token
 * }
 * const tokens = createUserTokenLookup({ lookup: (token) => db.findUserIdByToken(token) })
 * const { userId } = await tokens.verify(token)
 * ```
 */
export function createUserTokenLookup(options: UserTokenLookupOptions): UserTokenLookup {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${FACTORY}: \`options\` must be an object`)
  }
  const found = optionalFunction<UserTokenLookupOptions['lookup']>(FACTORY, 'lookup', options.lookup)
  if (found === undefined) throw new TypeError(`${FACTORY}: \`lookup\` must be a function`)
  const lookup: UserTokenLookupOptions['lookup'] = found
  const now = optionalFunction<() => number>(FACTORY, 'now', options.now)
  const cache = options.cache
  if (cache !== undefined && cache !== false && (typeof cache !== 'object' || cache === null)) {
    throw new TypeError(`${FACTORY}: \`cache\` must be an object or false`)
  }
  const settings =
    cache === false
      ? undefined
      : {
          max: positiveInteger(FACTORY, 'cache.max', cache?.max, 10_000),
          ttl: duration(FACTORY, 'cache.ttl', cache?.ttl, 60_000, { allowZero: false }),
          negativeTtl: duration(FACTORY, 'cache.negativeTtl', cache?.negativeTtl, 5_000, { allowZero: true }),
        }

  const revocations =
    options.revocations === undefined
      ? undefined
      : checkRevocationStore(`${FACTORY}: \`revocations\``, options.revocations)

  async function load(token: string): Promise<VerifiedUserToken | null> {
    const result = normalize(await lookup(token))
    if (result === null || revocations === undefined || result.issuedAt === undefined) return result
    const mark = await revocations.revokedBefore(result.userId)
    return mark !== undefined && result.issuedAt.getTime() <= mark.getTime() ? null : result
  }

  const verifier = new VerificationCache({ cache: settings, now, load })

  const tokens: UserTokenLookup = {
    verify(token: string): Promise<VerifiedUserToken> {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_OPAQUE_TOKEN_LENGTH) {
        return Promise.reject(EvotorError.invalidUserToken())
      }
      return verifier.verify(token)
    },
    peek: (token) => verifier.peek(token),
    revokeToken: (token) => verifier.revokeToken(token),
    revokeUser: (userId) => verifier.revokeUser(userId),
    clear: () => verifier.clear(),
    get size() {
      return verifier.size
    },
    revocations,
  }
  revocations?.attach?.(tokens)
  return tokens
}

function normalize(found: unknown): VerifiedUserToken | null {
  if (found === null || found === undefined) return null
  if (typeof found === 'string' && found.length > 0) return { userId: found }
  if (typeof found === 'object') {
    const { userId, expiresAt, issuedAt } = found as {
      userId?: unknown
      expiresAt?: unknown
      issuedAt?: unknown
    }
    const validDate = (value: unknown): value is Date | undefined =>
      value === undefined || (value instanceof Date && !Number.isNaN(value.getTime()))
    if (typeof userId === 'string' && userId.length > 0 && validDate(expiresAt) && validDate(issuedAt)) {
      return {
        userId,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(issuedAt === undefined ? {} : { issuedAt }),
      }
    }
  }
  // A programming error on the partner's side, not a bad token: let the dispatcher answer 500.
  throw new TypeError(
    `${FACTORY}: \`lookup\` must resolve to a userId string, { userId, expiresAt?: Date }, null or undefined`,
  )
}
