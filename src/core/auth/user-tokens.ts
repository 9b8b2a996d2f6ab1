import { createHash } from 'node:crypto'
import { base64url, FlattenedSign, flattenedVerify } from 'jose'
import {
  checkRevocationStore,
  createMemoryRevocationStore,
  issueTimeAfter,
  type RevocationStore,
} from '../revocations.js'
import {
  duration,
  optionalFunction,
  positiveInteger,
  type UserTokenCacheOptions,
  type UserTokenVerifier,
  VerificationCache,
  type VerifiedUserToken,
} from './user-token-verifier.js'

const FACTORY = 'createUserTokens'

/**
 * The issued-token fields handed to {@link UserTokensOptions.isRevoked}.
 *
 * @example
 * ```ts
 * // A rule of your own (uninstalls are revoked already, see `revocations`):
 * const isRevoked = ({ userId, issuedAt }: IssuedUserToken) => issuedAt < passwordChangedAt(userId)
 * ```
 */
export interface IssuedUserToken {
  userId: string
  issuedAt: Date
  /** Key id of the secret that signed the token (changes when the signing secret rotates). */
  keyId: string
}

/**
 * Options of {@link createUserTokens}.
 *
 * @example
 * ```ts
 * const options: UserTokensOptions = {
 *   secret: [process.env.TOKEN_SECRET_NEW!, process.env.TOKEN_SECRET_OLD!],
 *   revocations: createRedisRevocations({ client: redis }), // default: in memory
 *   isRevoked: async ({ userId }) => await db.isBlocked(userId), // optional rule of your own
 * }
 * ```
 */
export interface UserTokensOptions {
  /**
   * HMAC secret(s), each at least 32 bytes (UTF-8 for strings). With several, the FIRST signs new
   * tokens and ALL verify: put the new secret first to rotate, drop the old one when its tokens
   * may die.
   */
  secret: string | Uint8Array | readonly (string | Uint8Array)[]
  /**
   * Token lifetime in seconds (a positive integer). Default: tokens never expire, because Evotor
   * has no way to refresh a user token (protocol §4.6, §11 A52); revoke them instead.
   */
  expiresIn?: number
  /**
   * Consulted on every verification that is not answered from the cache; `true` rejects the
   * token with 1002. For rules of your own (a blocked account, a password change): uninstalls
   * need none, `revocations` handles them. A throw is passed through as-is (an infrastructure
   * failure, not a bad token).
   */
  isRevoked?: (token: IssuedUserToken) => boolean | Promise<boolean>
  /**
   * Where the per-user revoked-before marks live: a token issued at or before its user's mark is
   * rejected with 1002. Default: a new `createMemoryRevocationStore()` (this process only). With
   * several instances pass a shared one (`createRedisRevocations()`, or your database's); `false`
   * for none. The webhook dispatcher writes the mark on `ApplicationUninstalled`, so revocation
   * needs no code of yours. Read on every verification that misses the cache; a rejection (store
   * down) is passed through, so the request answers 503, never 200.
   */
  revocations?: RevocationStore | false
  /** Cache of successful verifications, or `false` for none. Default `{ max: 10_000, ttl: 60_000 }`. */
  cache?: UserTokenCacheOptions | false
  /** Clock in ms since the epoch, for tests. Default `Date.now`. */
  now?: () => number
  /** Longest accepted `userId`, in UTF-8 bytes. Default 48 (Evotor ids are 18 characters). */
  maxUserIdLength?: number
}

/**
 * Issues and verifies stateless signed partner user tokens. See {@link createUserTokens}.
 *
 * @example
 * ```ts
 * const tokens: UserTokens = createUserTokens({ secret: process.env.TOKEN_SECRET! })
 * const token = await tokens.issue('01-000000000015463')
 * ```
 */
export interface UserTokens extends UserTokenVerifier {
  /**
   * A new token for `userId`: at most 128 characters of `[A-Za-z0-9_-]` (protocol §4.1, §4.3).
   * Throws `RangeError` when `userId` is empty, longer than `maxUserIdLength` UTF-8 bytes or not
   * well-formed Unicode.
   */
  issue(userId: string): Promise<string>
  /**
   * The cached result of a successful, unexpired, unrevoked `verify(token)`, or `undefined`
   * (not cached, or `cache: false`): a synchronous look-up that never checks a signature.
   */
  peek(token: string): VerifiedUserToken | undefined
  /** Number of verifications held in the cache (read-only; at most `cache.max`). */
  readonly size: number
  /** Drops every cached verification. */
  clear(): void
}

/** Token layout: `<kid><signature><payload>`, all base64url; the first two have a fixed length. */
const KID_LENGTH = 4
const SIGNATURE_LENGTH = 43
const MAX_TOKEN_LENGTH = 128
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,128}$/
/** Payload: version byte, issued-at (ms, 6 bytes), [expiry delta (s, 4 bytes)], userId (UTF-8). */
const VERSION_PLAIN = 1
const VERSION_EXPIRING = 2
const PLAIN_HEADER_BYTES = 7
const EXPIRING_HEADER_BYTES = 11
/** 128 - kid - signature = 81 characters, of which 80 carry whole bytes: 60 bytes of payload. */
const MAX_PAYLOAD_BYTES = Math.floor(((MAX_TOKEN_LENGTH - KID_LENGTH - SIGNATURE_LENGTH) * 6) / 8)
const MAX_EXPIRES_IN = 0xffff_ffff
/** A random secret of 32 bytes has ~30 distinct bytes; a repeated pattern has few. */
const MIN_DISTINCT_BYTES = 8
const MIN_SECRET_BYTES = 32
const KID_DOMAIN = 'evotor-partner/user-token/kid\0'

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

interface SigningKey {
  readonly kid: string
  /** base64url of `{"alg":"HS256","kid":...}`: rebuilt here, never read from the token. */
  readonly protectedHeader: string
  readonly key: () => Promise<CryptoKey>
}

/**
 * Stateless partner user tokens (protocol §4.1): HMAC-SHA-256 through jose's flattened JWS with
 * the algorithm pinned and a key id per secret, packed into at most 128 characters of
 * `[A-Za-z0-9_-]` (a compact JWT has dots and would not match Evotor's header grammar, §4.3,
 * §11 A7). Tokens do not expire unless `expiresIn` is set (§4.6); they are revoked instead, with
 * no code of yours: the webhook dispatcher writes a revoked-before mark into the `revocations`
 * store (default: in memory, this process only; `createRedisRevocations()` or your database's
 * for several instances) on `ApplicationUninstalled`, and verification refuses a token issued at
 * or before its user's mark. `revocations.revokeUser(userId, before)` does the same by hand.
 * `revokeUser()` / `revokeToken()` on the tokens only drop cached verifications; the `isRevoked`
 * hook is for rules of your own on top.
 *
 * Verification rejects with `EvotorError` 1002 (malformed, unknown key, bad signature, revoked)
 * or 1003 (expired). Successful verifications are cached in memory (LRU, `cache.ttl`).
 *
 * @example
 * ```ts
 * import { createEvotorWebhooks, createUserTokens } from 'evotor-partner'
 * import { createRedisRevocations } from 'evotor-partner/redis'
 *
 * const tokens = createUserTokens({
 *   secret: process.env.TOKEN_SECRET!,
 *   revocations: createRedisRevocations({ client: redis }), // several instances; omit for one
 * })
 * const token = await tokens.issue('01-000000000015463') // answer of /user/create, /user/verify
 * const { userId } = await tokens.verify(token)            // on every webhook / proxied request
 *
 * // ApplicationUninstalled revokes the user's tokens by itself (revokeOnUninstall: true):
 * const webhooks = createEvotorWebhooks({ appCredential, userTokens: tokens, handlers })
 *
 * // By hand, e.g. an operator blocking a user: refuse every token issued up to now.
 * await tokens.revocations?.revokeUser(userId, new Date())
 * ```
 */
export function createUserTokens(options: UserTokensOptions): UserTokens {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${FACTORY}: \`options\` must be an object`)
  }
  const keys = signingKeys(options.secret)
  const signer = keys[0]!
  const byKid = new Map(keys.map((key) => [key.kid, key]))
  const expiresIn = options.expiresIn === undefined ? undefined : expiresInSeconds(options.expiresIn)
  const headerBytes = expiresIn === undefined ? PLAIN_HEADER_BYTES : EXPIRING_HEADER_BYTES
  const maxUserIdLength = positiveInteger(FACTORY, 'maxUserIdLength', options.maxUserIdLength, 48)
  if (maxUserIdLength > MAX_PAYLOAD_BYTES - headerBytes) {
    throw new TypeError(
      `${FACTORY}: \`maxUserIdLength\` must be at most ${MAX_PAYLOAD_BYTES - headerBytes} so that tokens fit in ${MAX_TOKEN_LENGTH} characters`,
    )
  }
  const isRevoked = optionalFunction<NonNullable<UserTokensOptions['isRevoked']>>(
    FACTORY,
    'isRevoked',
    options.isRevoked,
  )
  const now = optionalFunction<() => number>(FACTORY, 'now', options.now)
  const clock = now ?? Date.now
  const cache = cacheSettings(options.cache)
  const revocations: RevocationStore | undefined =
    options.revocations === false
      ? undefined
      : options.revocations === undefined
        ? createMemoryRevocationStore()
        : checkRevocationStore(`${FACTORY}: \`revocations\``, options.revocations)

  async function load(token: string): Promise<VerifiedUserToken | null> {
    const parsed = await unpack(token, byKid)
    if (parsed === null) return null
    const { userId, issuedAt, expiresAt, kid } = parsed
    const result: VerifiedUserToken =
      expiresAt === undefined ? { userId, issuedAt } : { userId, issuedAt, expiresAt }
    // An expired token answers 1003 whatever the hook would say; skip the hook's I/O.
    if (expiresAt !== undefined && expiresAt.getTime() <= clock()) return result
    if (revocations !== undefined) {
      const mark = await revocations.revokedBefore(userId)
      // The same millisecond counts as before: a token issued as the uninstall ran is refused.
      if (mark !== undefined && issuedAt.getTime() <= mark.getTime()) return null
    }
    if (isRevoked !== undefined && (await isRevoked({ userId, issuedAt: new Date(issuedAt), keyId: kid }))) {
      return null
    }
    return result
  }

  const verifier = new VerificationCache({ cache, now, load })

  const tokens: UserTokens = {
    async issue(userId: string): Promise<string> {
      if (typeof userId !== 'string')
        throw new TypeError(`${FACTORY}: issue(userId): \`userId\` must be a string`)
      const id = utf8.encode(userId)
      if (id.length === 0 || id.length > maxUserIdLength) {
        throw new RangeError(
          `${FACTORY}: issue(userId): \`userId\` must be 1 to ${maxUserIdLength} UTF-8 bytes long, got ${id.length}`,
        )
      }
      if (strictUtf8.decode(id) !== userId) {
        throw new RangeError(`${FACTORY}: issue(userId): \`userId\` must be well-formed Unicode`)
      }
      const now = Math.floor(clock())
      // Never at or before the user's mark: a reinstall right after an uninstall gets a live token.
      // An unreadable store only loses that millisecond's guard, so issuing does not depend on it.
      const mark = await revocations?.revokedBefore(userId).catch(() => undefined)
      const issuedAt = issueTimeAfter(now, mark)
      const payload = new Uint8Array(headerBytes + id.length)
      const view = new DataView(payload.buffer)
      view.setUint8(0, expiresIn === undefined ? VERSION_PLAIN : VERSION_EXPIRING)
      view.setUint16(1, Math.floor(issuedAt / 2 ** 32))
      view.setUint32(3, issuedAt % 2 ** 32)
      if (expiresIn !== undefined) view.setUint32(7, expiresIn)
      payload.set(id, headerBytes)
      const jws = await new FlattenedSign(payload)
        .setProtectedHeader({ alg: 'HS256', kid: signer.kid })
        .sign(await signer.key())
      const token = signer.kid + jws.signature + jws.payload
      // Protocol §4.3 / §11 A7: never hand Evotor a token outside its header grammar.
      if (jws.protected !== signer.protectedHeader || !TOKEN_PATTERN.test(token)) {
        throw new RangeError(`${FACTORY}: issue(userId): the token would not fit the Evotor header grammar`)
      }
      return token
    },
    verify: (token) => verifier.verify(token),
    peek: (token) => verifier.peek(token),
    revokeToken: (token) => verifier.revokeToken(token),
    revokeUser: (userId) => verifier.revokeUser(userId),
    clear: () => verifier.clear(),
    get size() {
      return verifier.size
    },
    revocations,
  }
  // Revocations on any instance (pub/sub of a shared store) drop this cache too.
  revocations?.attach?.(tokens)
  return tokens
}

interface UnpackedToken {
  userId: string
  issuedAt: Date
  expiresAt: Date | undefined
  kid: string
}

async function unpack(token: string, byKid: ReadonlyMap<string, SigningKey>): Promise<UnpackedToken | null> {
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null
  const signing = byKid.get(token.slice(0, KID_LENGTH))
  if (signing === undefined) return null
  const signature = token.slice(KID_LENGTH, KID_LENGTH + SIGNATURE_LENGTH)
  const encodedPayload = token.slice(KID_LENGTH + SIGNATURE_LENGTH)
  // Only the canonical base64url spelling is accepted, so that no two tokens carry one signature.
  const payload = canonicalDecode(encodedPayload)
  if (payload === null || payload.length <= PLAIN_HEADER_BYTES) return null
  const signatureBytes = canonicalDecode(signature)
  if (signatureBytes === null || signatureBytes.length !== 32) return null
  try {
    await flattenedVerify(
      { protected: signing.protectedHeader, payload: encodedPayload, signature },
      await signing.key(),
      { algorithms: ['HS256'] },
    )
  } catch {
    return null
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const version = view.getUint8(0)
  const issuedAtMs = view.getUint16(1) * 2 ** 32 + view.getUint32(3)
  let headerBytes: number
  let expiresAt: Date | undefined
  if (version === VERSION_PLAIN) {
    headerBytes = PLAIN_HEADER_BYTES
  } else if (version === VERSION_EXPIRING && payload.length > EXPIRING_HEADER_BYTES) {
    headerBytes = EXPIRING_HEADER_BYTES
    expiresAt = new Date(issuedAtMs + view.getUint32(7) * 1000)
  } else {
    return null
  }
  let userId: string
  try {
    userId = strictUtf8.decode(payload.subarray(headerBytes))
  } catch {
    return null
  }
  return { userId, issuedAt: new Date(issuedAtMs), expiresAt, kid: signing.kid }
}

function canonicalDecode(encoded: string): Uint8Array | null {
  try {
    const bytes = base64url.decode(encoded)
    return base64url.encode(bytes) === encoded ? bytes : null
  } catch {
    return null
  }
}

function signingKeys(secret: UserTokensOptions['secret']): SigningKey[] {
  const list: readonly unknown[] = Array.isArray(secret) ? secret : [secret]
  if (list.length === 0) throw new TypeError(`${FACTORY}: \`secret\` must not be an empty list`)
  const keys: SigningKey[] = []
  const seen = new Map<string, Uint8Array>()
  list.forEach((item, index) => {
    const where = list.length === 1 ? '`secret`' : `\`secret[${index}]\``
    let bytes: Uint8Array<ArrayBuffer>
    if (typeof item === 'string') bytes = utf8.encode(item)
    else if (item instanceof Uint8Array)
      bytes = new Uint8Array(item) // a copy: the caller may reuse theirs
    else throw new TypeError(`${FACTORY}: ${where} must be a string or a Uint8Array`)
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new TypeError(
        `${FACTORY}: ${where} must be at least ${MIN_SECRET_BYTES} bytes long; generate one with \`openssl rand -base64 48\``,
      )
    }
    // 32 × "a" is long enough and still guessable: require some variety (design "Security defaults").
    if (new Set(bytes).size < MIN_DISTINCT_BYTES) {
      throw new TypeError(
        `${FACTORY}: ${where} has fewer than ${MIN_DISTINCT_BYTES} distinct bytes, so it is guessable; generate one with \`openssl rand -base64 48\``,
      )
    }
    const kid = createHash('sha256').update(KID_DOMAIN).update(bytes).digest('base64url').slice(0, KID_LENGTH)
    const other = seen.get(kid)
    if (other !== undefined) {
      throw new TypeError(
        other.length === bytes.length && other.every((b, i) => b === bytes[i])
          ? `${FACTORY}: ${where} duplicates an earlier secret`
          : `${FACTORY}: ${where} has the same key id as an earlier secret; generate another secret`,
      )
    }
    seen.set(kid, bytes)
    let imported: Promise<CryptoKey> | undefined
    keys.push({
      kid,
      protectedHeader: base64url.encode(JSON.stringify({ alg: 'HS256', kid })),
      key: () => {
        imported ??= crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
          'sign',
          'verify',
        ])
        return imported
      },
    })
  })
  return keys
}

function expiresInSeconds(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > MAX_EXPIRES_IN) {
    throw new TypeError(
      `${FACTORY}: \`expiresIn\` must be a positive integer number of seconds up to ${MAX_EXPIRES_IN}`,
    )
  }
  return value
}

function cacheSettings(
  cache: UserTokensOptions['cache'],
): { max: number; ttl: number; negativeTtl: number } | undefined {
  if (cache === false) return undefined
  if (cache !== undefined && (typeof cache !== 'object' || cache === null)) {
    throw new TypeError(`${FACTORY}: \`cache\` must be an object or false`)
  }
  return {
    max: positiveInteger(FACTORY, 'cache.max', cache?.max, 10_000),
    ttl: duration(FACTORY, 'cache.ttl', cache?.ttl, 60_000, { allowZero: false }),
    // Failed verifications are not cached: HMAC is cheap and isRevoked must see every attempt.
    negativeTtl: 0,
  }
}
