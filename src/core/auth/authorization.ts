import { EvotorError } from '../evotor-error.js'

/**
 * Longest `Authorization` value {@link parseAuthorization} accepts.
 *
 * @example
 * ```ts
 * import { EvotorError } from 'evotor-partner'
 * if (header.length > MAX_AUTHORIZATION_LENGTH) throw EvotorError.invalidUserToken() // over 8192
 * ```
 */
export const MAX_AUTHORIZATION_LENGTH = 8192

/**
 * A parsed `Authorization: Basic <base64(username:password)>` header.
 *
 * @example
 * ```ts
 * import { parseAuthorization } from 'evotor-partner'
 * const auth = parseAuthorization('Basic dXNlcjpwYXNz') // { scheme: 'basic', username: 'user', … }
 * const basic: ParsedBasicAuthorization | undefined = auth.scheme === 'basic' ? auth : undefined
 * ```
 */
export interface ParsedBasicAuthorization {
  readonly scheme: 'basic'
  /** The decoded text before the first `:`, or the whole decoded text when there is no `:`. */
  readonly username: string
  /** The decoded text after the first `:`, or `''` when there is no `:`. */
  readonly password: string
  /** The raw base64 blob as received (protocol §4.4: a fallback may compare it whole). */
  readonly credentials: string
}

/**
 * A parsed `Authorization: Bearer <token>` header, or a bare token without a scheme word.
 *
 * @example
 * ```ts
 * import { parseAuthorization } from 'evotor-partner'
 * const auth = parseAuthorization('Bearer abc123') // { scheme: 'bearer', token: 'abc123', bare: false }
 * const bearer: ParsedBearerAuthorization | undefined = auth.scheme === 'bearer' ? auth : undefined
 * ```
 */
export interface ParsedBearerAuthorization {
  readonly scheme: 'bearer'
  readonly token: string
  /** `true` when the header had no scheme word (protocol §4.3 examples send bare user tokens). */
  readonly bare: boolean
}

/**
 * A parsed `Authorization` header. `JSON.stringify` and `util.inspect` show it with its
 * secrets redacted; the fields themselves are readable as usual.
 *
 * @example
 * ```ts
 * import { type ParsedAuthorization, parseAuthorization } from 'evotor-partner'
 * const auth: ParsedAuthorization = parseAuthorization(header)
 * const secret = auth.scheme === 'bearer' ? auth.token : auth.password
 * ```
 */
export type ParsedAuthorization = ParsedBasicAuthorization | ParsedBearerAuthorization

const REDACTED = '[redacted]'

function redactingPrototype(redact: (value: ParsedAuthorization) => object): object {
  const proto = {}
  const show = function (this: ParsedAuthorization) {
    return redact(this)
  }
  Object.defineProperty(proto, 'toJSON', { value: show })
  Object.defineProperty(proto, Symbol.for('nodejs.util.inspect.custom'), { value: show })
  return proto
}

const BEARER_PROTO = redactingPrototype((v) => ({
  scheme: 'bearer',
  token: REDACTED,
  bare: v.scheme === 'bearer' && v.bare,
}))
const BASIC_PROTO = redactingPrototype(() => ({
  scheme: 'basic',
  username: REDACTED,
  password: REDACTED,
  credentials: REDACTED,
}))

const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const URL_SAFE_BASE64 = /^[A-Za-z0-9_-]+={0,2}$/
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const CONTROL = /[\x00-\x1f\x7f]/
const SCHEME_SPELLING = { bearer: 'Bearer', basic: 'Basic' } as const
/** A word: no whitespace and no control characters (< 0x20, 0x7f). Sticky: matched at `lastIndex`. */
const WORD = /[^\x00-\x20\x7f]+/y
/** The common exact form `Bearer <token>`: one regexp call decides it (the general parse takes several). */
const PLAIN_BEARER = /^Bearer [^\x00-\x20\x7f]+$/

function malformed(): EvotorError {
  // The value is a secret: never echo it (design.md, Security defaults).
  return EvotorError.incorrect('Authorization', null)
}

function hasControl(text: string): boolean {
  return CONTROL.test(text)
}

function isOws(code: number): boolean {
  return code === 32 || code === 9
}

/** Where the word starting at `from` ends, or -1 when no word starts there. */
function wordFrom(value: string, from: number): number {
  WORD.lastIndex = from
  return WORD.test(value) ? WORD.lastIndex : -1
}

/** `word` equals the lower-case `scheme` in any case (no allocation for the usual spellings). */
function isSchemeWord(word: string, scheme: 'bearer' | 'basic'): boolean {
  if (word.length !== scheme.length) return false
  return word === scheme || word === SCHEME_SPELLING[scheme] || word.toLowerCase() === scheme
}

function bearer(token: string, bare: boolean): ParsedBearerAuthorization {
  const result = Object.create(BEARER_PROTO) as { scheme: 'bearer'; token: string; bare: boolean }
  result.scheme = 'bearer'
  result.token = token
  result.bare = bare
  return result
}

function basic(credentials: string): ParsedBasicAuthorization {
  const standard = STANDARD_BASE64.test(credentials)
  const urlSafe = URL_SAFE_BASE64.test(credentials)
  if (!standard && !urlSafe) throw malformed()
  const bytes = Buffer.from(credentials, 'base64')
  // Re-encoding rejects wrong padding and non-zero trailing bits: one blob per credential.
  const unpadded = credentials.replace(/=+$/, '')
  const canonical =
    (standard && bytes.toString('base64') === credentials) ||
    (urlSafe &&
      bytes.toString('base64url') === unpadded &&
      (unpadded.length === credentials.length || credentials.length % 4 === 0))
  if (!canonical) throw malformed()
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw malformed()
  }
  // RFC 7617 §2: user-id and password contain no control characters.
  if (hasControl(text)) throw malformed()
  const colon = text.indexOf(':')
  const result = Object.create(BASIC_PROTO) as {
    scheme: 'basic'
    username: string
    password: string
    credentials: string
  }
  result.scheme = 'basic'
  result.username = colon < 0 ? text : text.slice(0, colon)
  result.password = colon < 0 ? '' : text.slice(colon + 1)
  result.credentials = credentials
  return result
}

/**
 * Parses an `Authorization` header value: `Bearer <token>`, `Basic <base64>` (scheme word in
 * any case, spaces or tabs after it) or a bare token, which is a bearer token with
 * `bare: true` (protocol §4.3, §11 A6). Basic credentials are decoded from strict base64 or
 * base64url as UTF-8 and split at the first `:` (protocol §4.4).
 *
 * @throws {EvotorError} 400/2003 `subject: "Authorization"`, `value: null` when the value is
 * empty, too long, has control characters or inner whitespace, an unknown scheme word, or
 * bad base64/UTF-8. The value never appears in the error.
 *
 * @example
 * ```ts
 * import { parseAuthorization } from 'evotor-partner'
 * parseAuthorization('Bearer evotor_token') // { scheme: 'bearer', token: 'evotor_token', bare: false }
 * parseAuthorization('Basic dXNlcjpwYXNz') // { scheme: 'basic', username: 'user', password: 'pass', ... }
 * ```
 */
export function parseAuthorization(value: string): ParsedAuthorization {
  if (typeof value !== 'string' || value.length > MAX_AUTHORIZATION_LENGTH) throw malformed()
  if (PLAIN_BEARER.test(value)) return bearer(value.slice(7), false)
  let start = 0
  let end = value.length
  while (start < end && isOws(value.charCodeAt(start))) start++
  while (end > start && isOws(value.charCodeAt(end - 1))) end--
  if (start === end) throw malformed()
  // The words are matched by the regexp engine (sticky, no allocation): several times faster than
  // a charCodeAt loop on a long token.
  const wordEnd = wordFrom(value, start)
  if (wordEnd === end) {
    const token = start === 0 && end === value.length ? value : value.slice(start, end)
    if (isSchemeWord(token, 'bearer') || isSchemeWord(token, 'basic')) throw malformed()
    return bearer(token, true)
  }
  // After the first word: one run of spaces or tabs, then one word up to the end. Anything else
  // (a control character, a third word) is malformed.
  if (wordEnd < 0 || !isOws(value.charCodeAt(wordEnd))) throw malformed()
  let tokenStart = wordEnd + 1
  while (isOws(value.charCodeAt(tokenStart))) tokenStart++
  if (wordFrom(value, tokenStart) !== end) throw malformed()
  const scheme = value.slice(start, wordEnd)
  const token = value.slice(tokenStart, end)
  if (isSchemeWord(scheme, 'bearer')) return bearer(token, false)
  if (isSchemeWord(scheme, 'basic')) return basic(token)
  throw malformed()
}
