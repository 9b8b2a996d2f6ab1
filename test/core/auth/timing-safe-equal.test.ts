import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  sha256Digest,
  timingSafeEqualBytes,
  timingSafeEqualDigest,
  timingSafeEqualString,
} from '../../../src/core/auth/timing-safe-equal.js'

describe('timingSafeEqualString', () => {
  it('is true for equal strings and false for different ones', () => {
    expect(timingSafeEqualString('evotor_token', 'evotor_token')).toBe(true)
    expect(timingSafeEqualString('evotor_token', 'evotor_tokeN')).toBe(false)
    expect(timingSafeEqualString('', '')).toBe(true)
  })

  it('handles unequal lengths without throwing', () => {
    expect(timingSafeEqualString('a', 'ab')).toBe(false)
    expect(timingSafeEqualString('', 'x'.repeat(10_000))).toBe(false)
  })

  it('compares Cyrillic text exactly', () => {
    expect(timingSafeEqualString('пароль', 'пароль')).toBe(true)
    expect(timingSafeEqualString('пароль', 'Пароль')).toBe(false)
  })

  it('does not collapse distinct lone surrogates (UTF-8 would map both to U+FFFD)', () => {
    expect(timingSafeEqualString('\uD800', '\uDC00')).toBe(false)
    expect(timingSafeEqualString('\uD800', '\uFFFD')).toBe(false)
  })

  it('agrees with === for arbitrary strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(timingSafeEqualString(a, b)).toBe(a === b)
        expect(timingSafeEqualString(a, a)).toBe(true)
      }),
    )
  })
})

describe('timingSafeEqualBytes', () => {
  it('agrees with byte equality for arbitrary arrays of any lengths (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(timingSafeEqualBytes(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)))
        expect(timingSafeEqualBytes(a, Uint8Array.from(a))).toBe(true)
      }),
    )
  })
})

describe('timingSafeEqualDigest', () => {
  it('compares digests and returns false (no throw) for unequal lengths', () => {
    expect(timingSafeEqualDigest(sha256Digest('a'), sha256Digest('a'))).toBe(true)
    expect(timingSafeEqualDigest(sha256Digest('a'), sha256Digest('b'))).toBe(false)
    expect(timingSafeEqualDigest(sha256Digest('a'), new Uint8Array(3))).toBe(false)
  })

  it('hashes strings and bytes to 32 bytes', () => {
    expect(sha256Digest('x')).toHaveLength(32)
    expect(sha256Digest(new Uint8Array([1]))).toHaveLength(32)
  })
})
