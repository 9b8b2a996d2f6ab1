import { EvotorError } from '../evotor-error.js'
import { type ParsedAuthorization, parseAuthorization } from './authorization.js'
import { sha256Digest, timingSafeEqualDigest } from './timing-safe-equal.js'

/**
 * A login/password pair typed into the Evotor developer portal for Basic authorization.
 *
 * @example
 * ```ts
 * import { type BasicCredential, createAppCredentialVerifier } from 'evotor-partner'
 * const pair: BasicCredential = { username: 'evotor', password: process.env.EVOTOR_APP_PASSWORD! }
 * const appCredential = createAppCredentialVerifier({ basic: pair })
 * ```
 */
export interface BasicCredential {
  username: string
  password: string
}

/**
 * Options of {@link createAppCredentialVerifier}. Several of each are allowed, for rotation.
 *
 * @example
 * ```ts
 * import { type AppCredentialOptions, createAppCredentialVerifier } from 'evotor-partner'
 * const options: AppCredentialOptions = { bearer: [currentToken, previousToken] } // rotation: both accepted
 * const appCredential = createAppCredentialVerifier(options)
 * ```
 */
export interface AppCredentialOptions {
  /** Bearer token(s) typed into the developer portal. */
  bearer?: readonly string[] | string
  /** Basic login/password pair(s) typed into the developer portal. */
  basic?: readonly BasicCredential[] | BasicCredential
}

/**
 * Checks the partner app credential that Evotor sends on webhooks (protocol §4.1, §4.2).
 *
 * @example
 * ```ts
 * import { type AppCredentialVerifier, createAppCredentialVerifier } from 'evotor-partner'
 * const appCredential: AppCredentialVerifier = createAppCredentialVerifier({ bearer: appToken })
 * if (!appCredential.verify(req.headers.authorization)) res.status(401).end()
 * ```
 */
export interface AppCredentialVerifier {
  /**
   * Whether the `Authorization` value (raw, or parsed by `parseAuthorization`) carries a
   * configured credential. Never throws; a missing or malformed value is `false`.
   */
  verify(authorization: string | ParsedAuthorization | undefined): boolean
  /** Like `verify`, but throws `EvotorError.invalidAppCredential()` (401/1001) instead of `false`. */
  assert(authorization: string | ParsedAuthorization | undefined): void
}

function hasWhitespaceOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code <= 32 || code === 127) return true
  }
  return false
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 32 || code === 127) return true
  }
  return false
}

/** Shortest app bearer token or Basic password accepted (design "Security defaults"). */
const MIN_SECRET_LENGTH = 16
const HOW_TO_GENERATE = 'generate one with `openssl rand -base64 48` and type it into the developer portal'

/** A secret too short to resist guessing, or an unset environment variable turned into text. */
function weakSecret(what: string, value: string): string | undefined {
  if (/^(?:undefined|null)$/i.test(value.trim())) {
    return `${what} is the text "${value}" (an unset environment variable?); ${HOW_TO_GENERATE}`
  }
  if (value.length < MIN_SECRET_LENGTH) {
    return `${what} must be at least ${MIN_SECRET_LENGTH} characters; ${HOW_TO_GENERATE}`
  }
  return undefined
}

function bearerDigests(bearer: AppCredentialOptions['bearer']): Buffer[] {
  if (bearer === undefined) return []
  const list: readonly unknown[] = typeof bearer === 'string' ? [bearer] : bearer
  if (!Array.isArray(list))
    throw new TypeError('appCredential.bearer must be a string or an array of strings')
  return list.map((token) => {
    if (typeof token !== 'string' || token === '') {
      throw new TypeError('appCredential.bearer: every token must be a non-empty string')
    }
    // Such a token could never arrive in a header (protocol §4.3), so it is a configuration mistake.
    if (hasWhitespaceOrControl(token)) {
      throw new TypeError('appCredential.bearer: a token must not contain whitespace or control characters')
    }
    const weak = weakSecret('appCredential.bearer: a token', token)
    if (weak !== undefined) throw new TypeError(weak)
    return sha256Digest(token)
  })
}

function basicDigests(basic: AppCredentialOptions['basic']): [Buffer, Buffer][] {
  if (basic === undefined) return []
  const list: readonly unknown[] = Array.isArray(basic) ? basic : [basic]
  return list.map((pair) => {
    const { username, password } = (
      typeof pair === 'object' && pair !== null ? pair : {}
    ) as Partial<BasicCredential>
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      throw new TypeError('appCredential.basic: username and password must be non-empty strings')
    }
    if (username.includes(':')) throw new TypeError('appCredential.basic: username must not contain ":"')
    if (hasControl(username) || hasControl(password)) {
      throw new TypeError('appCredential.basic: username and password must not contain control characters')
    }
    const weak = weakSecret('appCredential.basic: password', password)
    if (weak !== undefined) throw new TypeError(weak)
    return [sha256Digest(username), sha256Digest(password)]
  })
}

/**
 * Creates a verifier of the partner **app credential** (protocol §4.1): the Bearer token or
 * the Basic login/password typed into the developer portal, which Evotor sends on
 * `user/create`, `user/verify`, `user/token` and billing events. Bearer matches a configured
 * token (a bare token too, §4.3); Basic matches when the decoded (username, password) equals a
 * configured pair (§4.4). Secrets are hashed once here; every check compares against every
 * configured secret in constant time, without stopping at the first match.
 *
 * @throws {TypeError} when no credential is configured or one is empty or malformed.
 *
 * @example
 * ```ts
 * import { createAppCredentialVerifier } from 'evotor-partner'
 * const appCredential = createAppCredentialVerifier({ bearer: [process.env.EVOTOR_APP_TOKEN ?? ''] })
 * appCredential.assert(request.headers.authorization) // throws 401/1001 when wrong
 * ```
 */
export function createAppCredentialVerifier(options: AppCredentialOptions): AppCredentialVerifier {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('appCredential: options must be an object')
  }
  const bearers = bearerDigests(options.bearer)
  const pairs = basicDigests(options.basic)
  if (bearers.length + pairs.length === 0) {
    throw new TypeError('appCredential: configure at least one bearer token or basic pair')
  }

  function matches(authorization: ParsedAuthorization): boolean {
    let match = 0
    if (authorization.scheme === 'bearer' && typeof authorization.token === 'string') {
      const token = sha256Digest(authorization.token)
      for (const expected of bearers) match |= timingSafeEqualDigest(token, expected) ? 1 : 0
    } else if (
      authorization.scheme === 'basic' &&
      typeof authorization.username === 'string' &&
      typeof authorization.password === 'string'
    ) {
      const username = sha256Digest(authorization.username)
      const password = sha256Digest(authorization.password)
      for (const [expectedUser, expectedPassword] of pairs) {
        // `&`, not `&&`: both halves are always compared.
        match |=
          (timingSafeEqualDigest(username, expectedUser) ? 1 : 0) &
          (timingSafeEqualDigest(password, expectedPassword) ? 1 : 0)
      }
    }
    return match === 1
  }

  function verify(authorization: string | ParsedAuthorization | undefined): boolean {
    try {
      if (typeof authorization === 'string') return matches(parseAuthorization(authorization))
      if (typeof authorization === 'object' && authorization !== null) return matches(authorization)
      return false
    } catch {
      // A malformed credential is an invalid credential (1001), not a 2003.
      return false
    }
  }

  return {
    verify,
    assert(authorization) {
      if (!verify(authorization)) throw EvotorError.invalidAppCredential()
    },
  }
}
