import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * SHA-256 of a string or bytes. Strings are hashed as their UTF-16 code units, so two
 * different strings never collide through UTF-8's replacement of lone surrogates.
 *
 * @example
 * ```ts
 * const digest = sha256Digest('evotor_token') // 32 bytes, pre-computed once for a configured secret
 * ```
 */
export function sha256Digest(value: string | Uint8Array): Buffer {
  return createHash('sha256')
    .update(typeof value === 'string' ? Buffer.from(value, 'utf16le') : value)
    .digest()
}

/**
 * Constant-time equality of two byte strings of any lengths: both sides are hashed with
 * SHA-256 first, so `crypto.timingSafeEqual` always sees equal lengths and the time does not
 * depend on where (or whether) the inputs differ.
 *
 * @example
 * ```ts
 * timingSafeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])) // true
 * ```
 */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return timingSafeEqual(sha256Digest(a), sha256Digest(b))
}

/**
 * Constant-time equality of two strings of any lengths (compared by UTF-16 code units).
 * Use it for every comparison that involves a secret.
 *
 * @example
 * ```ts
 * timingSafeEqualString(receivedToken, process.env.EVOTOR_APP_TOKEN ?? '')
 * ```
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  return timingSafeEqual(sha256Digest(a), sha256Digest(b))
}

/**
 * Constant-time equality of two SHA-256 digests (from {@link sha256Digest}); `false` when the
 * lengths differ, without calling `crypto.timingSafeEqual` on unequal lengths.
 *
 * @example
 * ```ts
 * const expected = sha256Digest('secret') // once, at start-up
 * timingSafeEqualDigest(sha256Digest(received), expected)
 * ```
 */
export function timingSafeEqualDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
