import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isEvotorError } from '../../src/core/evotor-error.js'
import { EVOTOR_HEADER_NAMES, getHeader, parseEvotorHeaders } from '../../src/core/headers.js'
import type { HeadersLike } from '../../src/core/http-types.js'

const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
const DEVICE = '20170222-D58C-40E0-8051-B53ADFF38860'
const DEVICE_LOWER = '5a188de4-49b8-4cb4-800e-eb6b5202437e'
const USER = '01-000000000000001'

function caught(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

function expectIncorrect(fn: () => unknown, subject: string, value: unknown): void {
  const error = caught(fn)
  expect(isEvotorError(error)).toBe(true)
  expect(error).toMatchObject({ code: 2003, status: 400, reason: 'incorrect', subject, value })
}

/** The same four headers in every HeadersLike form. */
function allForms(pairs: [string, string][]): [string, HeadersLike][] {
  return [
    ['Fetch Headers', new Headers(pairs)],
    ['Node-style lower-case object', Object.fromEntries(pairs.map(([k, v]) => [k.toLowerCase(), v]))],
    ['mixed-case object', Object.fromEntries(pairs)],
    ['null-prototype object', Object.assign(Object.create(null), Object.fromEntries(pairs))],
    ['Map', new Map(pairs)],
    ['array of pairs', pairs],
    [
      'generator of pairs',
      (function* () {
        yield* pairs
      })(),
    ],
  ]
}

const SAMPLE: [string, string][] = [
  ['Host', 'partner.example'],
  ['X-Evotor-Store-Uuid', STORE],
  ['X-EVOTOR-DEVICE-UUID', DEVICE],
  ['x-evotor-user-id', USER],
  ['AUTHORIZATION', 'Bearer user_token-1'],
]

describe('getHeader', () => {
  it.each(allForms(SAMPLE))('finds headers case-insensitively in a %s', (_form, headers) => {
    const copy = (h: HeadersLike) => h
    expect(getHeader(copy(headers), 'X-Evotor-Device-UUID')).toBe(DEVICE)
  })

  it.each(allForms(SAMPLE).filter(([form]) => form !== 'generator of pairs'))(
    'reads each name and reports absent ones as undefined in a %s',
    (_form, headers) => {
      expect(getHeader(headers, 'x-evotor-store-uuid')).toBe(STORE)
      expect(getHeader(headers, 'X-Evotor-User-Id')).toBe(USER)
      expect(getHeader(headers, 'authorization')).toBe('Bearer user_token-1')
      expect(getHeader(headers, 'X-Evotor-Missing')).toBeUndefined()
    },
  )

  it('reads Node values: single-element arrays, numbers, undefined', () => {
    expect(getHeader({ 'x-evotor-user-id': [USER] }, 'X-Evotor-User-Id')).toBe(USER)
    expect(getHeader({ 'content-length': 42 }, 'Content-Length')).toBe('42')
    expect(getHeader({ authorization: undefined }, 'Authorization')).toBeUndefined()
    expect(getHeader({ authorization: [] }, 'Authorization')).toBeUndefined()
    expect(getHeader(new Map([['X-Evotor-User-Id', [USER]]]), 'x-evotor-user-id')).toBe(USER)
  })

  it('rejects a header present more than once with 2003 and the canonical name', () => {
    expectIncorrect(
      () => getHeader({ 'x-evotor-user-id': [USER, USER] }, 'x-evotor-user-id'),
      'X-Evotor-User-Id',
      null,
    )
    expectIncorrect(
      () => getHeader({ 'x-evotor-store-uuid': STORE, 'X-Evotor-Store-Uuid': STORE }, 'X-Evotor-Store-Uuid'),
      'X-Evotor-Store-Uuid',
      null,
    )
    expectIncorrect(
      () =>
        getHeader(
          [
            ['authorization', 'Bearer a'],
            ['Authorization', 'Bearer b'],
          ],
          'Authorization',
        ),
      'Authorization',
      null,
    )
    expectIncorrect(
      () =>
        getHeader(
          new Map([
            ['X-Evotor-Device-UUID', DEVICE],
            ['x-evotor-device-uuid', DEVICE],
          ]),
          'X-Evotor-Device-Uuid',
        ),
      'X-Evotor-Device-UUID',
      null,
    )
  })

  it('names an unknown header as given when it is repeated', () => {
    expectIncorrect(() => getHeader({ 'x-custom': ['a', 'b'] }, 'X-Custom'), 'X-Custom', null)
  })

  it('does not treat a repeat of another header as a repeat', () => {
    expect(getHeader({ 'x-evotor-user-id': USER, 'x-evotor-user-idx': 'other' }, 'x-evotor-user-id')).toBe(
      USER,
    )
  })
})

describe('parseEvotorHeaders', () => {
  it.each(allForms(SAMPLE))('parses the four headers from a %s', (_form, headers) => {
    const parsed = parseEvotorHeaders(headers, {
      required: ['storeUuid', 'deviceUuid', 'userId', 'authorization'],
    })
    expect(parsed).toEqual({
      storeUuid: STORE,
      deviceUuid: DEVICE,
      userId: USER,
      authorization: { scheme: 'bearer', token: 'user_token-1', bare: false },
    })
  })

  it('returns undefined for absent headers and requires nothing by default', () => {
    expect(parseEvotorHeaders({})).toEqual({
      storeUuid: undefined,
      deviceUuid: undefined,
      userId: undefined,
      authorization: undefined,
    })
    expect(parseEvotorHeaders(new Headers())).toMatchObject({ userId: undefined })
  })

  it('keeps case exactly and trims surrounding spaces and tabs', () => {
    const parsed = parseEvotorHeaders({
      'x-evotor-store-uuid': ` \t${STORE}\t `,
      'x-evotor-device-uuid': DEVICE_LOWER,
      authorization: '  bearer   tok  ',
    })
    expect(parsed.storeUuid).toBe(STORE)
    expect(parsed.deviceUuid).toBe(DEVICE_LOWER)
    expect(parsed.authorization).toEqual({ scheme: 'bearer', token: 'tok', bare: false })
  })

  it('accepts a bare Authorization token', () => {
    expect(parseEvotorHeaders({ authorization: 'f46b89a5-8e80' }).authorization).toEqual({
      scheme: 'bearer',
      token: 'f46b89a5-8e80',
      bare: true,
    })
  })

  it('is lenient by default: ids are opaque strings (A2, A49)', () => {
    const parsed = parseEvotorHeaders({
      'x-evotor-store-uuid': 'n1e2w3-t4ov5qr6',
      'x-evotor-device-uuid': '352398080107214',
      'x-evotor-user-id': 'future-format-42',
    })
    expect(parsed).toMatchObject({
      storeUuid: 'n1e2w3-t4ov5qr6',
      deviceUuid: '352398080107214',
      userId: 'future-format-42',
    })
  })

  it('accepts the protocol example ids in strict mode', () => {
    for (const [store, device] of [
      [STORE, DEVICE],
      [DEVICE_LOWER, STORE],
      ['20170222-5670-4067-8017-FF5F40F1A23E', '20170928-3176-40EB-80E2-A11F032E282A'],
      ['20170101-ABCD-0BCD-0BCD-0123456789AB', DEVICE_LOWER.toUpperCase()],
    ]) {
      const parsed = parseEvotorHeaders(
        { 'x-evotor-store-uuid': store, 'x-evotor-device-uuid': device, 'x-evotor-user-id': USER },
        { strict: true },
      )
      expect(parsed).toMatchObject({ storeUuid: store, deviceUuid: device, userId: USER })
    }
  })

  it.each([
    ['storeUuid', 'X-Evotor-Store-Uuid', 'n1e2w3-t4ov5qr6'],
    ['storeUuid', 'X-Evotor-Store-Uuid', '5a188de4-49b8-0cb4-800e-eb6b5202437e'],
    ['deviceUuid', 'X-Evotor-Device-UUID', '352398080107214'],
    ['deviceUuid', 'X-Evotor-Device-UUID', '5a188de4-49b8-4cb4-c00e-eb6b5202437e'],
    ['deviceUuid', 'X-Evotor-Device-UUID', '2017022-D58C-40E0-8051-B53ADFF38860'],
    ['userId', 'X-Evotor-User-Id', '1-000000000000001'],
    ['userId', 'X-Evotor-User-Id', '01-00000000000000x'],
    ['userId', 'X-Evotor-User-Id', '01-0000000000000011'],
  ] as const)('strict mode rejects %s %s = %s (echoing the value)', (_field, header, value) => {
    expect(() => parseEvotorHeaders({ [header]: value })).not.toThrow()
    expectIncorrect(() => parseEvotorHeaders({ [header]: value }, { strict: true }), header, value)
  })

  it.each([
    ['storeUuid', 'X-Evotor-Store-Uuid'],
    ['deviceUuid', 'X-Evotor-Device-UUID'],
    ['userId', 'X-Evotor-User-Id'],
    ['authorization', 'Authorization'],
  ] as const)('answers 400/2002 with the canonical name when required %s is missing', (field, header) => {
    const error = caught(() => parseEvotorHeaders({ host: 'x' }, { required: [field] }))
    expect(isEvotorError(error)).toBe(true)
    expect(error).toMatchObject({ code: 2002, status: 400, reason: 'missing', subject: header })
  })

  it.each([
    ['empty', '', ''],
    ['blank', '  \t ', ''],
    ['CR LF', `${USER}\r\nX-Evil: 1`, `${USER}\r\nX-Evil: 1`],
    ['LF', `a\nb`, 'a\nb'],
    ['NUL', `${USER}\u0000`, `${USER}\u0000`],
    ['DEL', `01\u007f`, '01\u007f'],
    ['tab inside', 'a\tb', 'a\tb'],
    ['a comma (a repeated header joined by Node or Fetch)', `${USER}, ${USER}`, `${USER}, ${USER}`],
  ])('rejects an id that is %s with 2003 and echoes it', (_label, value, echoed) => {
    expectIncorrect(() => parseEvotorHeaders({ 'x-evotor-user-id': value }), 'X-Evotor-User-Id', echoed)
  })

  it('rejects a Fetch-joined repeated X-Evotor header', () => {
    const headers = new Headers()
    headers.append('X-Evotor-Store-Uuid', STORE)
    headers.append('X-Evotor-Store-Uuid', DEVICE)
    expectIncorrect(() => parseEvotorHeaders(headers), 'X-Evotor-Store-Uuid', `${STORE}, ${DEVICE}`)
  })

  it('rejects repeated headers in every container with value null', () => {
    expectIncorrect(() => parseEvotorHeaders({ 'x-evotor-user-id': [USER, USER] }), 'X-Evotor-User-Id', null)
    expectIncorrect(
      () => parseEvotorHeaders({ Authorization: 'Bearer a', authorization: 'Bearer a' }),
      'Authorization',
      null,
    )
    expectIncorrect(
      () =>
        parseEvotorHeaders([
          ['X-Evotor-Device-UUID', DEVICE],
          ['x-evotor-device-uuid', DEVICE],
        ]),
      'X-Evotor-Device-UUID',
      null,
    )
  })

  it('enforces maxLength and truncates the echoed value to it', () => {
    const long = 'a'.repeat(257)
    expectIncorrect(
      () => parseEvotorHeaders({ 'x-evotor-store-uuid': long }),
      'X-Evotor-Store-Uuid',
      'a'.repeat(256),
    )
    expect(parseEvotorHeaders({ 'x-evotor-store-uuid': long.slice(1) }).storeUuid).toBe(long.slice(1))
    expectIncorrect(
      () => parseEvotorHeaders({ 'x-evotor-store-uuid': 'abcdef' }, { maxLength: 4 }),
      'X-Evotor-Store-Uuid',
      'abcd',
    )
    expect(parseEvotorHeaders({ 'x-evotor-store-uuid': 'abcd' }, { maxLength: 4 }).storeUuid).toBe('abcd')
  })

  it('rejects a malformed Authorization without echoing it', () => {
    const secret = 'S3cretUserToken'
    for (const value of [`Digest ${secret}`, `Bearer ${secret}\r\n`, `Bearer ${secret}, Bearer ${secret}`]) {
      const error = caught(() => parseEvotorHeaders({ authorization: value }))
      expect(isEvotorError(error)).toBe(true)
      if (!isEvotorError(error)) continue
      expect(error).toMatchObject({ code: 2003, subject: 'Authorization', value: null })
      for (const text of [
        error.message,
        JSON.stringify(error),
        JSON.stringify(error.toBody()),
        inspect(error),
      ]) {
        expect(text).not.toContain(secret)
      }
    }
  })

  it('validates options with a TypeError naming the option', () => {
    expect(() => parseEvotorHeaders({}, { maxLength: 0 })).toThrow(/maxLength/)
    expect(() => parseEvotorHeaders({}, { maxLength: 1.5 })).toThrow(TypeError)
    expect(() => parseEvotorHeaders({}, { maxLength: Number.NaN })).toThrow(/maxLength/)
    expect(() => parseEvotorHeaders({}, { required: ['storeUUID' as 'storeUuid'] })).toThrow(/required/)
    expect(() => parseEvotorHeaders({}, { required: 'userId' as unknown as ['userId'] })).toThrow(TypeError)
    expect(() => parseEvotorHeaders({}, { strict: 'yes' as unknown as boolean })).toThrow(/strict/)
    expect(() => parseEvotorHeaders({}, null as unknown as object)).toThrow(TypeError)
  })

  it('does not mutate the options', () => {
    const options = Object.freeze({ required: Object.freeze(['userId'] as const), strict: true })
    expect(parseEvotorHeaders({ 'x-evotor-user-id': USER }, options).userId).toBe(USER)
    expect(EVOTOR_HEADER_NAMES.userId).toBe('X-Evotor-User-Id')
  })
})

const NAMES = ['X-Evotor-Store-Uuid', 'X-Evotor-Device-UUID', 'X-Evotor-User-Id', 'Authorization']
const FIELD_OF: Record<string, 'storeUuid' | 'deviceUuid' | 'userId'> = {
  'x-evotor-store-uuid': 'storeUuid',
  'x-evotor-device-uuid': 'deviceUuid',
  'x-evotor-user-id': 'userId',
}
const anyCase = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((flags) => [...name].map((c, i) => (flags[i] ? c.toUpperCase() : c.toLowerCase())).join(''))
const headerName = fc.oneof(
  fc.constantFrom(...NAMES).chain(anyCase),
  fc.string({ minLength: 1, maxLength: 12 }),
)
const headerValue = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
  fc.integer(),
  fc.constant(undefined),
  fc.constantFrom(
    STORE,
    DEVICE,
    DEVICE_LOWER,
    USER,
    'Bearer tok',
    `Basic ${Buffer.from('u:p').toString('base64')}`,
  ),
)
const controlChar = fc.constantFrom(...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f')
const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '')

describe('parseEvotorHeaders: properties', () => {
  it('returns a result or throws an EvotorError for arbitrary header records, with the invariants of accepted ids', () => {
    fc.assert(
      fc.property(fc.dictionary(headerName, headerValue, { maxKeys: 8 }), fc.boolean(), (record, strict) => {
        let parsed: ReturnType<typeof parseEvotorHeaders>
        try {
          parsed = parseEvotorHeaders(record, { strict })
        } catch (error) {
          expect(isEvotorError(error)).toBe(true)
          return
        }
        for (const [key, raw] of Object.entries(record)) {
          // Own keys only: 'constructor' and friends are not header fields.
          const field = Object.hasOwn(FIELD_OF, key.toLowerCase()) ? FIELD_OF[key.toLowerCase()] : undefined
          if (field === undefined) continue
          const value = parsed[field]
          const input = Array.isArray(raw) ? raw[0] : raw
          if (input === undefined) continue
          expect(value).toBe(trimOws(String(input)))
          expect(value?.length).toBeGreaterThan(0)
          expect(value?.length).toBeLessThanOrEqual(256)
          expect([...(value ?? '')].some((c) => c.charCodeAt(0) < 32 || c === '\u007f' || c === ',')).toBe(
            false,
          )
        }
      }),
      { numRuns: 500 },
    )
  })

  it('never accepts an id with a control character or over maxLength', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMES.slice(0, 3)),
        fc.string({ maxLength: 20 }),
        controlChar,
        fc.string({ maxLength: 20 }),
        (name, a, c, b) => {
          const value = `x${a}${c}${b}x`
          expect(() => parseEvotorHeaders({ [name]: value })).toThrow(
            expect.objectContaining({ code: 2003, subject: name }),
          )
        },
      ),
    )
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMES.slice(0, 3)),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 64 }),
        (name, maxLength, extra) => {
          const value = 'A'.repeat(maxLength + extra)
          expect(() => parseEvotorHeaders({ [name]: value }, { maxLength })).toThrow(
            expect.objectContaining({ code: 2003, value: 'A'.repeat(maxLength) }),
          )
          expect(parseEvotorHeaders({ [name]: value.slice(extra) }, { maxLength })).toBeDefined()
        },
      ),
    )
  })

  it('never accepts a header repeated under two spellings of its name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NAMES).chain((name) => fc.tuple(fc.constant(name), anyCase(name), anyCase(name))),
        fc.constantFrom(USER, 'Bearer tok'),
        fc.constantFrom<'object' | 'pairs' | 'map'>('object', 'pairs', 'map'),
        ([name, first, second], value, form) => {
          const pairs: [string, string][] = [
            [first, value],
            ['Host', 'h'],
            [second, value],
          ]
          fc.pre(form !== 'object' && form !== 'map' ? true : first !== second)
          const headers: HeadersLike =
            form === 'object' ? Object.fromEntries(pairs) : form === 'map' ? new Map(pairs) : pairs
          expect(() => parseEvotorHeaders(headers)).toThrow(
            expect.objectContaining({ code: 2003, subject: name, value: null }),
          )
        },
      ),
    )
  })
})
