import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_AUTHORIZATION_LENGTH, parseAuthorization } from '../../../src/core/auth/authorization.js'
import { isEvotorError } from '../../../src/core/evotor-error.js'

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')

function expectMalformed(value: string): void {
  let caught: unknown
  try {
    parseAuthorization(value)
  } catch (error) {
    caught = error
  }
  expect(isEvotorError(caught), JSON.stringify(value)).toBe(true)
  if (!isEvotorError(caught)) return
  expect(caught.code).toBe(2003)
  expect(caught.status).toBe(400)
  expect(caught.subject).toBe('Authorization')
  expect(caught.value).toBeNull()
}

describe('parseAuthorization: Bearer', () => {
  it('parses the documented example `Bearer evotor_token`', () => {
    expect(parseAuthorization('Bearer evotor_token')).toEqual({
      scheme: 'bearer',
      token: 'evotor_token',
      bare: false,
    })
  })

  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme word %s in any case', (scheme) => {
    expect(parseAuthorization(`${scheme} abc-123_=`)).toEqual({
      scheme: 'bearer',
      token: 'abc-123_=',
      bare: false,
    })
  })

  it('accepts several spaces or tabs after the scheme word and trims surrounding OWS', () => {
    expect(parseAuthorization('Bearer  \t tok')).toMatchObject({ token: 'tok', bare: false })
    expect(parseAuthorization(' \tBearer tok \t')).toMatchObject({ token: 'tok', bare: false })
  })

  it('treats a value without a scheme word as a bare bearer token (protocol §4.3)', () => {
    expect(parseAuthorization('5a188de4-49b8-4cb4-800e-eb6b5202437e')).toEqual({
      scheme: 'bearer',
      token: '5a188de4-49b8-4cb4-800e-eb6b5202437e',
      bare: true,
    })
  })

  it('keeps the token case and accepts a JWT (dots) although the documented alphabet forbids it (A7)', () => {
    expect(parseAuthorization('Bearer AbC.dEf.GhI')).toMatchObject({ token: 'AbC.dEf.GhI' })
  })
})

describe('parseAuthorization: Basic', () => {
  it('decodes username and password and keeps the raw blob', () => {
    const blob = b64('login:secret')
    expect(parseAuthorization(`Basic ${blob}`)).toEqual({
      scheme: 'basic',
      username: 'login',
      password: 'secret',
      credentials: blob,
    })
  })

  it('splits at the first colon only', () => {
    expect(parseAuthorization(`basic ${b64('user:pa:ss:')}`)).toMatchObject({
      username: 'user',
      password: 'pa:ss:',
    })
    expect(parseAuthorization(`BASIC ${b64(':only-password')}`)).toMatchObject({
      username: '',
      password: 'only-password',
    })
  })

  it('keeps the whole decoded text as username for the documented example without a colon (A9)', () => {
    expect(parseAuthorization('Basic RXhhbXBsZXBhc3N3b3Jk')).toEqual({
      scheme: 'basic',
      username: 'Examplepassword',
      password: '',
      credentials: 'RXhhbXBsZXBhc3N3b3Jk',
    })
  })

  it('decodes UTF-8 (Cyrillic)', () => {
    expect(parseAuthorization(`Basic ${b64('Эвотор:пароль')}`)).toMatchObject({
      username: 'Эвотор',
      password: 'пароль',
    })
  })

  it('accepts the base64url alphabet, padded or not', () => {
    const bytes = Buffer.from('ab?>:~~~?', 'utf8')
    const url = bytes.toString('base64url')
    expect(url).toMatch(/[-_]/)
    expect(parseAuthorization(`Basic ${url}`)).toMatchObject({ username: 'ab?>', password: '~~~?' })
    expect(parseAuthorization(`Basic ${Buffer.from('u:p1', 'utf8').toString('base64url')}`)).toMatchObject({
      username: 'u',
      password: 'p1',
    })
    expect(parseAuthorization('Basic dTpwMQ==')).toMatchObject({ username: 'u', password: 'p1' })
  })

  it.each([
    ['missing padding in standard base64', 'Basic dTp+MQ'],
    ['wrong padding', 'Basic dTpwMQ='],
    ['too much padding', 'Basic dTpwMQ==='],
    ['padding in the middle', 'Basic dT=wMQ=='],
    ['characters outside base64', 'Basic dTp*MQ=='],
    ['mixed alphabets', 'Basic a+b_'],
    ['non-zero trailing bits', 'Basic dTpwMR=='],
    ['invalid UTF-8', `Basic ${Buffer.from([0x75, 0x3a, 0xff, 0xfe]).toString('base64')}`],
    ['control characters in the decoded text', `Basic ${b64('user:pa\nss')}`],
    ['an empty blob', 'Basic '],
  ])('rejects %s', (_label, value) => {
    expectMalformed(value)
  })
})

describe('parseAuthorization: malformed values', () => {
  it.each([
    ['empty', ''],
    ['only whitespace', ' \t '],
    ['scheme word alone', 'Bearer'],
    ['basic scheme word alone', 'basic'],
    ['scheme word with trailing spaces', 'Bearer   '],
    ['unknown scheme', 'Digest abc'],
    ['unknown scheme Token', 'Token abc'],
    ['whitespace inside the token', 'Bearer abc def'],
    ['repeated header joined by Fetch', 'Bearer a, Bearer b'],
    ['CR LF', 'Bearer abc\r\nX-Evil: 1'],
    ['NUL', 'Bearer abc\u0000'],
    ['DEL', 'Bearer ab\u007fc'],
    ['bare token with a control character', 'abc\u0001'],
    ['over the length limit', `Bearer ${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}`],
  ])('rejects %s with 400/2003 and no value', (_label, value) => {
    expectMalformed(value)
  })

  it('accepts a value exactly at the length limit', () => {
    const token = 'a'.repeat(MAX_AUTHORIZATION_LENGTH - 'Bearer '.length)
    expect(parseAuthorization(`Bearer ${token}`)).toMatchObject({ token })
  })

  it('rejects a non-string value', () => {
    expectMalformed(42 as unknown as string)
  })
})

describe('parseAuthorization: safe to log', () => {
  it('redacts secrets in JSON.stringify and util.inspect but keeps the fields readable', () => {
    const bearer = parseAuthorization('Bearer super-secret-token')
    expect(JSON.stringify(bearer)).toBe('{"scheme":"bearer","token":"[redacted]","bare":false}')
    expect(inspect(bearer)).not.toContain('super-secret-token')
    expect(inspect(bearer)).toContain('[redacted]')
    expect(bearer.scheme === 'bearer' && bearer.token).toBe('super-secret-token')
    expect(Object.keys(bearer)).toEqual(['scheme', 'token', 'bare'])

    const basic = parseAuthorization(`Basic ${b64('login:hunter2')}`)
    const shown = JSON.stringify(basic) + inspect(basic) + inspect({ nested: basic }, { depth: 5 })
    expect(shown).not.toContain('hunter2')
    expect(shown).not.toContain(b64('login:hunter2'))
    expect(basic.scheme === 'basic' && basic.password).toBe('hunter2')
  })

  it('never puts the value into the error (message, JSON, toBody)', () => {
    const secret = 'TopSecretValue0123'
    for (const value of [`Digest ${secret}`, `Bearer ${secret} x`, `Basic ${secret}!`, `${secret}\n`]) {
      try {
        parseAuthorization(value)
        expect.unreachable()
      } catch (error) {
        expect(isEvotorError(error)).toBe(true)
        if (!isEvotorError(error)) continue
        const visible = [
          error.message,
          String(error),
          JSON.stringify(error),
          JSON.stringify(error.toBody()),
          inspect(error),
        ]
        for (const text of visible) expect(text).not.toContain(secret)
      }
    }
  })
})

// fast-check 4: full Unicode code points (the former fullUnicodeString).
const fullUnicode = () => fc.string({ unit: 'binary' })
// Tab is a legal separator, so it is tested apart; every other C0 control and DEL is never legal.
const controlChar = fc.constantFrom(
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\t'),
  '\u007f',
)
const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '')

describe('parseAuthorization: properties', () => {
  it('either returns a result or throws an EvotorError, for any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fullUnicode(),
          fc
            .tuple(fc.constantFrom('Bearer', 'basic', 'Digest', 'x'), fc.string(), fc.string())
            .map((p) => p.join(' ')),
          fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
        ),
        (value) => {
          try {
            const result = parseAuthorization(value)
            expect(['bearer', 'basic']).toContain(result.scheme)
            if (result.scheme === 'bearer') {
              expect(result.token.length).toBeGreaterThan(0)
              expect([...result.token].some((c) => c.charCodeAt(0) <= 32 || c === '\u007f')).toBe(false)
              expect(result.token).toBe(
                result.bare ? trimOws(value) : trimOws(value).replace(/^\S+[ \t]+/, ''),
              )
            }
          } catch (error) {
            expect(isEvotorError(error)).toBe(true)
          }
        },
      ),
      { numRuns: 500 },
    )
  })

  it('never accepts a value with a control character inside or one over the limit', () => {
    fc.assert(
      fc.property(
        fc.string(),
        controlChar,
        fc.string(),
        fc.constantFrom('', 'Bearer ', 'Basic '),
        (a, c, b, scheme) => {
          const value = `${scheme}${a}${c}${b}`
          expect(() => parseAuthorization(value)).toThrow(expect.objectContaining({ code: 2003 }))
        },
      ),
    )
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9]{1,20}$/),
        fc.stringMatching(/^[A-Za-z0-9]{1,20}$/),
        (a, b) => {
          expect(() => parseAuthorization(`Bearer ${a}\t${b}`)).toThrow(
            expect.objectContaining({ code: 2003 }),
          )
        },
      ),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_AUTHORIZATION_LENGTH + 1, max: MAX_AUTHORIZATION_LENGTH * 2 }),
        (n) => {
          expect(() => parseAuthorization('a'.repeat(n))).toThrow(expect.objectContaining({ code: 2003 }))
        },
      ),
      { numRuns: 20 },
    )
  })

  it('round-trips Basic base64(username:password), including Cyrillic', () => {
    const text = fc.oneof(fc.string(), fullUnicode(), fc.stringMatching(/^[а-яА-ЯёЁ0-9 ]*$/))
    const noControl = (s: string) => ![...s].some((c) => c.charCodeAt(0) < 32 || c === '\u007f')
    fc.assert(
      fc.property(
        text.filter((u) => !u.includes(':') && noControl(u)),
        text.filter(noControl),
        fc.boolean(),
        fc.constantFrom('Basic', 'basic', 'BASIC'),
        (username, password, urlSafe, scheme) => {
          const blob = Buffer.from(`${username}:${password}`, 'utf8').toString(
            urlSafe ? 'base64url' : 'base64',
          )
          fc.pre(blob.length > 0)
          const parsed = parseAuthorization(`${scheme} ${blob}`)
          expect(parsed).toEqual({ scheme: 'basic', username, password, credentials: blob })
        },
      ),
      { numRuns: 500 },
    )
  })

  it('round-trips Bearer tokens from the documented alphabet in any scheme case', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_=-]{1,128}$/),
        fc.constantFrom('Bearer', 'bearer', 'BEARER'),
        (token, scheme) => {
          expect(parseAuthorization(`${scheme} ${token}`)).toEqual({ scheme: 'bearer', token, bare: false })
          const lower = token.toLowerCase()
          if (lower !== 'bearer' && lower !== 'basic') {
            expect(parseAuthorization(token)).toEqual({ scheme: 'bearer', token, bare: true })
          }
        },
      ),
    )
  })
})
