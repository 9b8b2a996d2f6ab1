import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAppCredentialVerifier } from '../../../src/core/auth/app-credential.js'
import { parseAuthorization } from '../../../src/core/auth/authorization.js'
import { isEvotorError } from '../../../src/core/evotor-error.js'

const basicHeader = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`

describe('createAppCredentialVerifier: options', () => {
  it('requires at least one credential', () => {
    expect(() => createAppCredentialVerifier({})).toThrow(
      new TypeError('appCredential: configure at least one bearer token or basic pair'),
    )
    expect(() => createAppCredentialVerifier({ bearer: [], basic: [] })).toThrow(/at least one/)
  })

  it.each([
    ['an empty bearer token', { bearer: '' }, /appCredential\.bearer/],
    ['an empty bearer token in a list', { bearer: ['ok', ''] }, /appCredential\.bearer/],
    ['a bearer token with a space', { bearer: 'two words' }, /appCredential\.bearer/],
    ['a non-string bearer token', { bearer: [42] }, /appCredential\.bearer/],
    [
      'an empty username',
      { basic: { username: '', password: 'p-0123456789abcdef' } },
      /appCredential\.basic/,
    ],
    ['an empty password', { basic: [{ username: 'u', password: '' }] }, /appCredential\.basic/],
    [
      'a username with a colon',
      { basic: { username: 'a:b', password: 'p-0123456789abcdef' } },
      /appCredential\.basic/,
    ],
    ['a password with a newline', { basic: { username: 'u', password: 'p\n' } }, /appCredential\.basic/],
    ['a basic entry that is not an object', { basic: ['u:p'] }, /appCredential\.basic/],
  ])('rejects %s with a TypeError naming the option', (_label, options, message) => {
    expect(() => createAppCredentialVerifier(options as never)).toThrow(TypeError)
    expect(() => createAppCredentialVerifier(options as never)).toThrow(message)
  })

  it('rejects a non-object', () => {
    expect(() => createAppCredentialVerifier(undefined as never)).toThrow(TypeError)
  })

  it('does not mutate or keep the caller options', () => {
    const options = {
      bearer: ['token-1-0123456789abcdef'],
      basic: [{ username: 'u', password: 'p-0123456789abcdef' }],
    }
    const snapshot = structuredClone(options)
    const verifier = createAppCredentialVerifier(options)
    expect(options).toEqual(snapshot)
    options.bearer[0] = 'changed'
    expect(verifier.verify('Bearer token-1-0123456789abcdef')).toBe(true)
    expect(verifier.verify('Bearer changed')).toBe(false)
  })
})

describe('createAppCredentialVerifier: Bearer', () => {
  const verifier = createAppCredentialVerifier({
    bearer: ['evotor_token_0123456789', '5a188de4-49b8-4cb4-800e-eb6b5202437e'],
  })

  it('accepts every configured token (rotation), in any scheme case, bare too', () => {
    expect(verifier.verify('Bearer evotor_token_0123456789')).toBe(true)
    expect(verifier.verify('bearer 5a188de4-49b8-4cb4-800e-eb6b5202437e')).toBe(true)
    expect(verifier.verify('BEARER evotor_token_0123456789')).toBe(true)
    expect(verifier.verify('evotor_token_0123456789')).toBe(true)
    expect(verifier.verify(parseAuthorization('Bearer evotor_token_0123456789'))).toBe(true)
  })

  it('rejects other tokens, prefixes, case changes and Basic', () => {
    expect(verifier.verify('Bearer evotor_toke')).toBe(false)
    expect(verifier.verify('Bearer evotor_token_01234567892')).toBe(false)
    expect(verifier.verify('Bearer EVOTOR_TOKEN')).toBe(false)
    expect(verifier.verify(basicHeader('evotor_token_0123456789', ''))).toBe(false)
    expect(verifier.verify(`Basic ${Buffer.from('evotor_token_0123456789').toString('base64')}`)).toBe(false)
  })

  it('answers false for missing and malformed values without throwing', () => {
    for (const value of [
      undefined,
      '',
      'Bearer',
      'Digest evotor_token_0123456789',
      'Bearer evotor_token_0123456789\r\n',
      'Basic %%%',
    ]) {
      expect(verifier.verify(value)).toBe(false)
    }
    expect(verifier.verify(null as never)).toBe(false)
    expect(verifier.verify({ scheme: 'bearer' } as never)).toBe(false)
    expect(verifier.verify({ scheme: 'other', token: 'evotor_token_0123456789' } as never)).toBe(false)
  })

  it('assert throws 401/1001 (not 2003) for malformed, missing or wrong values', () => {
    for (const value of [undefined, 'Digest x', 'Bearer wrong']) {
      let caught: unknown
      try {
        verifier.assert(value)
      } catch (error) {
        caught = error
      }
      expect(isEvotorError(caught)).toBe(true)
      expect(caught).toMatchObject({ code: 1001, status: 401 })
    }
    expect(() => verifier.assert('Bearer evotor_token_0123456789')).not.toThrow()
  })
})

describe('createAppCredentialVerifier: Basic', () => {
  const verifier = createAppCredentialVerifier({
    basic: [
      { username: 'partner', password: 'old:pass-0123456789ab' },
      { username: 'Эвотор', password: 'пароль-пароль-пароль' },
    ],
  })

  it('accepts every configured pair, including Cyrillic and passwords with colons', () => {
    expect(verifier.verify(basicHeader('partner', 'old:pass-0123456789ab'))).toBe(true)
    expect(verifier.verify(basicHeader('Эвотор', 'пароль-пароль-пароль'))).toBe(true)
    expect(verifier.verify(basicHeader('Эвотор', 'пароль-пароль-пароль').replace('Basic', 'basic'))).toBe(
      true,
    )
  })

  it('rejects crossed pairs, wrong halves and bearer tokens', () => {
    expect(verifier.verify(basicHeader('partner', 'пароль-пароль-пароль'))).toBe(false)
    expect(verifier.verify(basicHeader('Эвотор', 'old:pass-0123456789ab'))).toBe(false)
    expect(verifier.verify(basicHeader('partner', 'old:pass-0123456789a'))).toBe(false)
    expect(verifier.verify(basicHeader('PARTNER', 'old:pass-0123456789ab'))).toBe(false)
    expect(verifier.verify(`Bearer ${Buffer.from('partner:old:pass').toString('base64')}`)).toBe(false)
    expect(verifier.verify('Bearer partner')).toBe(false)
  })

  it('works with bearer and basic configured together', () => {
    const both = createAppCredentialVerifier({
      bearer: 'tok-0123456789abcdef',
      basic: { username: 'u', password: 'p-0123456789abcdef' },
    })
    expect(both.verify('Bearer tok-0123456789abcdef')).toBe(true)
    expect(both.verify(basicHeader('u', 'p-0123456789abcdef'))).toBe(true)
    expect(both.verify(basicHeader('tok-0123456789abcdef', ''))).toBe(false)
  })
})

describe('createAppCredentialVerifier: secrets stay out of errors', () => {
  it('never puts a configured or received secret in the thrown error', () => {
    const secret = 'VerySecretAppToken42'
    const verifier = createAppCredentialVerifier({ bearer: secret })
    for (const value of [`Bearer ${secret}x`, `Digest ${secret}`, basicHeader('login', secret)]) {
      let caught: unknown
      try {
        verifier.assert(value)
      } catch (error) {
        caught = error
      }
      expect(isEvotorError(caught)).toBe(true)
      if (!isEvotorError(caught)) continue
      const visible = [
        caught.message,
        JSON.stringify(caught),
        JSON.stringify(caught.toBody()),
        inspect(caught),
        caught.stack,
      ]
      for (const text of visible) expect(text).not.toContain(secret)
    }
  })
})

const token = fc.stringMatching(/^[A-Za-z0-9_=-]{16,64}$/)
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }))
const noControl = (s: string) => ![...s].some((c) => c.charCodeAt(0) < 32 || c === '\u007f')
const username = fc.oneof(token, anyText).filter((u) => u.length > 0 && !u.includes(':') && noControl(u))
const password = fc
  .oneof(token, anyText)
  .filter((p) => p.length >= 16 && noControl(p) && !/^(?:undefined|null)$/i.test(p.trim()))

describe('createAppCredentialVerifier: properties', () => {
  it('accepts exactly the configured bearer tokens', () => {
    fc.assert(
      fc.property(fc.uniqueArray(token, { minLength: 1, maxLength: 4 }), anyText, (tokens, other) => {
        const verifier = createAppCredentialVerifier({ bearer: tokens })
        for (const t of tokens) {
          expect(verifier.verify(`Bearer ${t}`)).toBe(true)
          expect(verifier.verify(t)).toBe(t.toLowerCase() !== 'bearer' && t.toLowerCase() !== 'basic')
        }
        expect(verifier.verify(`Bearer ${other}`)).toBe(tokens.includes(other))
        expect(verifier.verify(other)).toBe(
          tokens.includes(other) && other.toLowerCase() !== 'bearer' && other.toLowerCase() !== 'basic',
        )
      }),
    )
  })

  it('accepts exactly the configured basic pairs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ username, password }), { minLength: 1, maxLength: 3 }),
        username,
        password,
        (pairs, u, p) => {
          const verifier = createAppCredentialVerifier({ basic: pairs })
          for (const pair of pairs)
            expect(verifier.verify(basicHeader(pair.username, pair.password))).toBe(true)
          const configured = pairs.some((pair) => pair.username === u && pair.password === p)
          expect(verifier.verify(basicHeader(u, p))).toBe(configured)
          expect(verifier.verify(parseAuthorization(basicHeader(u, p)))).toBe(configured)
        },
      ),
    )
  })

  it('never throws from verify, whatever it is given', () => {
    const verifier = createAppCredentialVerifier({
      bearer: 'tok-0123456789abcdef',
      basic: { username: 'u', password: 'p-0123456789abcdef' },
    })
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.anything(),
          fc.string().map((s) => `Basic ${s}`),
          fc.string().map((s) => `Bearer ${s}`),
        ),
        (value) => {
          const result = verifier.verify(value as string)
          expect(typeof result).toBe('boolean')
          if (typeof value !== 'string') expect(result).toBe(false)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('createAppCredentialVerifier: weak secrets fail at construction', () => {
  it.each([
    ['a 1-character bearer token', { bearer: 'x' }, /at least 16 characters.*openssl rand -base64 48/],
    ['a 15-character bearer token', { bearer: ['0123456789abcde'] }, /appCredential\.bearer.*16/],
    ['the text "undefined"', { bearer: 'undefined' }, /"undefined".*unset environment variable/],
    ['the text "null" as a password', { basic: { username: 'evotor', password: 'null' } }, /"null"/],
    [
      'a short Basic password',
      { basic: [{ username: 'evotor', password: 'short-pass' }] },
      /appCredential\.basic: password/,
    ],
  ])('rejects %s with a TypeError saying how to generate one', (_, options, message) => {
    expect(() => createAppCredentialVerifier(options as never)).toThrow(TypeError)
    expect(() => createAppCredentialVerifier(options as never)).toThrow(message)
  })

  it('accepts 16 characters', () => {
    expect(
      createAppCredentialVerifier({ bearer: '0123456789abcdef' }).verify('Bearer 0123456789abcdef'),
    ).toBe(true)
  })
})
