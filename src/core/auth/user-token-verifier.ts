import { LRUCache } from 'lru-cache'
import { EvotorError } from '../evotor-error.js'
import type { RevocationStore } from '../revocations.js'

/**
 * What a verified partner user token stands for (protocol §4.1): the Evotor user it was issued
 * to, and when known, when it was issued and when it expires.
 *
 * @example
 * ```ts
 * const { userId } = await tokens.verify(bearerToken)
 * if (userId !== headers.userId) throw EvotorError.invalidUserToken()
 * ```
 */
export interface VerifiedUserToken {
  userId: string
  issuedAt?: Date
  expiresAt?: Date
}

/**
 * Verifies the partner user tokens that Evotor sends back as `Authorization: Bearer <token>` on
 * webhooks and proxied terminal requests (protocol §4.1, §4.2). Implemented by
 * {@link createUserTokens} (stateless signed tokens) and {@link createUserTokenLookup} (opaque
 * tokens stored by the partner); the webhook dispatcher and the proxy middleware accept either.
 *
 * @example
 * ```ts
 * const verifier: UserTokenVerifier = createUserTokens({ secret: process.env.TOKEN_SECRET! })
 * try {
 *   const { userId } = await verifier.verify(token)
 * } catch (error) {
 *   // EvotorError 1002 (invalid, unknown or revoked) or 1003 (expired)
 * }
 * verifier.revokeUser('01-000000000015463') // drops cached verifications only (see `revocations`)
 * ```
 */
export interface UserTokenVerifier {
  /** Resolves the token's user, or rejects with EvotorError 1002 (invalid/unknown/revoked) or 1003 (expired). */
  verify(token: string): Promise<VerifiedUserToken>
  /**
   * Optional synchronous cache look-up: what `verify(token)` would resolve to when that answer is
   * cached and still good (a successful verification, not expired, not revoked), else `undefined`
   * (then call `verify`). Never verifies anything itself; the proxy middleware uses it to skip a
   * promise on the hot path.
   */
  peek?(token: string): VerifiedUserToken | undefined
  /** Drop any cached verification of this token, so the next verify() re-checks it. */
  revokeToken(token: string): void
  /** Drop every cached verification for this user. */
  revokeUser(userId: string): void
  /**
   * Where this verifier reads the revoked-before marks (see `RevocationStore`), when it has one.
   * The webhook dispatcher writes the mark there on `ApplicationUninstalled`.
   */
  readonly revocations?: RevocationStore | undefined
}

/**
 * Bounds of the in-memory verification cache (an LRU with a TTL).
 *
 * @example
 * ```ts
 * createUserTokens({ secret, cache: { max: 50_000, ttl: 5 * 60_000 } })
 * ```
 */
export interface UserTokenCacheOptions {
  /** Most tokens kept at once; the least recently used are dropped first. Default `10_000`. */
  max?: number
  /** How long (ms) a successful verification is reused without re-checking. Default `60_000`. */
  ttl?: number
}

/** A cached verdict: `result === null` is a cached miss (unknown token). */
interface CacheEntry {
  readonly result: Readonly<VerifiedUserToken> | null
  /** Token expiry in ms (the `now` clock), `Infinity` when the token does not expire. */
  readonly expiresAtMs: number
  /** Last ms (the `now` clock) the verdict is used: stored at + the cache's `ttl` (or `negativeTtl` for a miss). */
  readonly staleAtMs: number
}

interface Flight {
  current: boolean
  promise: Promise<Readonly<VerifiedUserToken>>
}

/**
 * What a {@link VerificationCache} caches, on which clock, and how it loads an uncached verdict.
 *
 * @internal
 *
 * @example
 * ```ts
 * const settings: VerificationCacheSettings = { cache: undefined, now: undefined, load: async () => null }
 * ```
 */
export interface VerificationCacheSettings {
  /** `undefined`: nothing is cached (in-flight verifications are still shared). */
  readonly cache: { readonly max: number; readonly ttl: number; readonly negativeTtl: number } | undefined
  readonly now: (() => number) | undefined
  /** Loads a verdict for an uncached token: a result, `null` for "unknown", or throws. */
  readonly load: (token: string) => Promise<VerifiedUserToken | null>
}

/**
 * The cache and coalescing machinery shared by both verifier kinds: an LRU keyed by the token
 * itself (the hit path is one `get` plus an expiry check, no hashing), a per-user index of cached
 * tokens for `revokeUser`, and one in-flight promise per token.
 *
 * @internal
 *
 * @example
 * ```ts
 * const cache = { max: 10_000, ttl: 60_000, negativeTtl: 5_000 }
 * const verifier = new VerificationCache({ cache, now: undefined, load: lookUpToken })
 * ```
 */
export class VerificationCache implements UserTokenVerifier {
  readonly #lru: LRUCache<string, CacheEntry> | undefined
  readonly #ttl: number
  readonly #negativeTtl: number
  readonly #byUser = new Map<string, Set<string>>()
  readonly #inflight = new Map<string, Flight>()
  readonly #now: () => number
  readonly #load: (token: string) => Promise<VerifiedUserToken | null>
  // The entry last read or written, by its token: a repeated token (one client's requests in a
  // row) is found by comparing strings, without hashing the token's fresh string for the LRU's Map
  // (~1,500 instructions a request). It is always the LRU's most recent entry, so skipping the
  // LRU's recency update changes nothing; `dispose` forgets it with the entry.
  #lastToken: string | undefined
  #lastEntry: CacheEntry | undefined

  constructor(settings: VerificationCacheSettings) {
    this.#now = settings.now ?? Date.now
    this.#load = settings.load
    this.#ttl = settings.cache?.ttl ?? 0
    this.#negativeTtl = settings.cache?.negativeTtl ?? 0
    if (settings.cache !== undefined) {
      // Staleness is kept in the entry and checked on the one clock read a hit needs anyway, not
      // with lru-cache's `ttl`: that one arms a timer every millisecond to memoize its own clock.
      this.#lru = new LRUCache<string, CacheEntry>({
        max: settings.cache.max,
        dispose: (entry, token) => {
          if (token === this.#lastToken) this.#forgetLast()
          if (entry.result !== null) this.#unindex(entry.result.userId, token)
        },
      })
    }
  }

  /** Entries held in the cache (positive and negative), never more than `max`. */
  get size(): number {
    return this.#lru?.size ?? 0
  }

  verify(token: string): Promise<VerifiedUserToken> {
    const entry = this.#fresh(token)
    if (entry !== undefined) return this.#settle(entry)
    const pending = this.#inflight.get(token)
    if (pending !== undefined) return pending.promise
    const flight = { current: true } as Flight
    this.#inflight.set(token, flight)
    flight.promise = this.#run(token, flight)
    return flight.promise
  }

  peek(token: string): Readonly<VerifiedUserToken> | undefined {
    const entry = this.#get(token)
    if (entry === undefined || entry.result === null) return undefined
    const now = this.#now()
    if (entry.staleAtMs < now || entry.expiresAtMs <= now) return undefined
    return entry.result
  }

  /** The cached entry of `token` while it is fresh; a stale one is dropped. */
  #fresh(token: string): CacheEntry | undefined {
    const entry = this.#get(token)
    if (entry === undefined) return undefined
    if (entry.staleAtMs >= this.#now()) return entry
    this.#lru?.delete(token)
    return undefined
  }

  revokeToken(token: string): void {
    this.#lru?.delete(token)
    const flight = this.#inflight.get(token)
    if (flight !== undefined) {
      flight.current = false
      this.#inflight.delete(token)
    }
  }

  revokeUser(userId: string): void {
    const tokens = this.#byUser.get(userId)
    if (tokens !== undefined) for (const token of [...tokens]) this.#lru?.delete(token)
    this.#byUser.delete(userId)
    // An in-flight verification's user is not known yet: none of them may be cached any more.
    this.#dropInflight()
  }

  clear(): void {
    this.#lru?.clear()
    this.#byUser.clear()
    this.#dropInflight()
  }

  async #run(token: string, flight: Flight): Promise<Readonly<VerifiedUserToken>> {
    let result: VerifiedUserToken | null
    try {
      result = await this.#load(token)
    } finally {
      if (flight.current) this.#inflight.delete(token)
    }
    const storedAt = this.#now()
    const entry: CacheEntry =
      result === null
        ? { result: null, expiresAtMs: Number.POSITIVE_INFINITY, staleAtMs: storedAt + this.#negativeTtl }
        : {
            result: Object.freeze(result),
            expiresAtMs: result.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
            staleAtMs: storedAt + this.#ttl,
          }
    // A revoke that happened while this load was pending makes its verdict stale: answer the
    // callers that asked before the revoke, but never cache it.
    if (flight.current && this.#lru !== undefined) {
      if (entry.result === null) {
        if (this.#negativeTtl > 0) this.#set(token, entry)
      } else {
        this.#set(token, entry)
        this.#index(entry.result.userId, token)
      }
    }
    return this.#settle(entry)
  }

  /** The cached entry of `token` (fresh or not), by the last-entry memo or the LRU. */
  #get(token: string): CacheEntry | undefined {
    if (token === this.#lastToken) return this.#lastEntry
    const entry = this.#lru?.get(token)
    if (entry !== undefined) {
      this.#lastToken = token
      this.#lastEntry = entry
    }
    return entry
  }

  #set(token: string, entry: CacheEntry): void {
    ;(this.#lru as LRUCache<string, CacheEntry>).set(token, entry)
    this.#lastToken = token
    this.#lastEntry = entry
  }

  #forgetLast(): void {
    this.#lastToken = undefined
    this.#lastEntry = undefined
  }

  #settle(entry: CacheEntry): Promise<Readonly<VerifiedUserToken>> {
    if (entry.result === null) return Promise.reject(EvotorError.invalidUserToken())
    if (entry.expiresAtMs !== Number.POSITIVE_INFINITY && entry.expiresAtMs <= this.#now()) {
      return Promise.reject(EvotorError.userTokenExpired())
    }
    return Promise.resolve(entry.result)
  }

  #index(userId: string, token: string): void {
    let tokens = this.#byUser.get(userId)
    if (tokens === undefined) {
      tokens = new Set()
      this.#byUser.set(userId, tokens)
    }
    tokens.add(token)
  }

  #unindex(userId: string, token: string): void {
    const tokens = this.#byUser.get(userId)
    if (tokens === undefined) return
    tokens.delete(token)
    if (tokens.size === 0) this.#byUser.delete(userId)
  }

  #dropInflight(): void {
    for (const flight of this.#inflight.values()) flight.current = false
    this.#inflight.clear()
  }
}

/**
 * Validates a positive integer option; `name` is the option path for the TypeError.
 *
 * @internal
 *
 * @example
 * ```ts
 * const max = positiveInteger('createUserTokens', 'cache.max', options.cache?.max, 10_000)
 * ```
 */
export function positiveInteger(factory: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${factory}: \`${name}\` must be a positive integer`)
  }
  return value
}

/**
 * Validates a non-negative finite number option (milliseconds).
 *
 * @internal
 *
 * @example
 * ```ts
 * const ttl = duration('createUserTokens', 'cache.ttl', options.cache?.ttl, 60_000, { allowZero: false })
 * ```
 */
export function duration(
  factory: string,
  name: string,
  value: unknown,
  fallback: number,
  { allowZero }: { allowZero: boolean },
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(
      `${factory}: \`${name}\` must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds`,
    )
  }
  return value
}

/**
 * Validates an optional function option.
 *
 * @internal
 *
 * @example
 * ```ts
 * const now = optionalFunction<() => number>('createUserTokens', 'now', options.now)
 * ```
 */
export function optionalFunction<F>(factory: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new TypeError(`${factory}: \`${name}\` must be a function`)
  return value as F
}
