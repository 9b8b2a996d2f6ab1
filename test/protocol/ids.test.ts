import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  DecimalSchema,
  EvotorDateTimeSchema,
  EvotorIdSchema,
  EvotorInstantSchema,
  IntegerLikeSchema,
  isEvotorDateTime,
  openUnion,
  parseEvotorDateTime,
  parseEvotorInstant,
  UNKNOWN_TYPE,
} from '../../src/protocol/ids.js'

describe('EvotorIdSchema', () => {
  it('keeps any non-empty string, case included, and rejects empty strings', () => {
    expect(EvotorIdSchema.parse('20170222-5670-4067-8017-FF5F40F1A23E')).toBe(
      '20170222-5670-4067-8017-FF5F40F1A23E',
    )
    expect(EvotorIdSchema.parse('352398080107214')).toBe('352398080107214')
    expect(EvotorIdSchema.safeParse('').success).toBe(false)
  })

  it('accepts up to 128 characters and refuses longer ids (a 100 KB "uuid")', () => {
    expect(EvotorIdSchema.parse('a'.repeat(128))).toBe('a'.repeat(128))
    expect(EvotorIdSchema.safeParse('a'.repeat(129)).success).toBe(false)
    expect(EvotorIdSchema.safeParse('a'.repeat(100_000)).success).toBe(false)
  })
})

describe('DecimalSchema', () => {
  it.each([3548, 0, -1.5, '3548', '7256.4', '-0.5', '.5', '1e3', '+2'])('accepts %s unchanged', (value) => {
    expect(DecimalSchema.parse(value)).toBe(value)
  })

  it.each(['', 'abc', '12,5', '1.2.3', ' 1', null, true, {}])('rejects %s', (value) => {
    expect(DecimalSchema.safeParse(value).success).toBe(false)
  })

  it('never converts a long decimal string to a float', () => {
    expect(DecimalSchema.parse('12345678901234567890.123456789')).toBe('12345678901234567890.123456789')
  })
})

describe('IntegerLikeSchema', () => {
  it('accepts integers and digit strings and outputs numbers', () => {
    expect(IntegerLikeSchema.parse(4)).toBe(4)
    expect(IntegerLikeSchema.parse('4')).toBe(4)
    expect(IntegerLikeSchema.safeParse(4.5).success).toBe(false)
    expect(IntegerLikeSchema.safeParse('4.5').success).toBe(false)
  })
})

describe('Evotor date-times', () => {
  it('parses the +0000 offset without a colon', () => {
    expect(parseEvotorDateTime('2017-01-10T09:33:19.757+0000').toISOString()).toBe('2017-01-10T09:33:19.757Z')
  })

  it('parses other offsets, Z, and no offset as UTC', () => {
    expect(parseEvotorDateTime('2017-01-10T12:33:19+03:00').toISOString()).toBe('2017-01-10T09:33:19.000Z')
    expect(parseEvotorDateTime('2017-01-10T09:33:19-0130').toISOString()).toBe('2017-01-10T11:03:19.000Z')
    expect(parseEvotorDateTime('2017-06-07T12:55:18Z').toISOString()).toBe('2017-06-07T12:55:18.000Z')
    expect(parseEvotorDateTime('2017-06-07T12:55:18').toISOString()).toBe('2017-06-07T12:55:18.000Z')
    expect(parseEvotorDateTime('2017-06-07T12:55:18.1234567+0000').getUTCMilliseconds()).toBe(123)
  })

  it.each(['yesterday', '2017-02-30T00:00:00+0000', '2017-13-01T00:00:00Z', '2017-01-01T24:00:00Z', ''])(
    'rejects %j',
    (raw) => {
      expect(isEvotorDateTime(raw)).toBe(false)
      expect(() => parseEvotorDateTime(raw)).toThrow(RangeError)
      expect(EvotorDateTimeSchema.safeParse(raw).success).toBe(false)
    },
  )

  it('reads every field as Date.parse reads the same instant in ISO form (fractions of 1-9 digits, offsets)', () => {
    const two = (n: number) => String(n).padStart(2, '0')
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        fc.boolean(),
        (date, fraction, offset, colon) => {
          const d = date
          const base = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
          const sign = offset < 0 ? '-' : '+'
          const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}${colon ? ':' : ''}${two(Math.abs(offset) % 60)}`
          const frac = fraction === undefined ? '' : `.${fraction}`
          const iso = `${base}${fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`
          expect(parseEvotorDateTime(`${base}${frac}${zone}`).getTime()).toBe(Date.parse(iso))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('reads the years 0000-0099 as themselves, not as 1900-1999 (and their leap days)', () => {
    expect(parseEvotorDateTime('0050-03-01T10:00:00Z').toISOString()).toBe('0050-03-01T10:00:00.000Z')
    expect(parseEvotorDateTime('0099-12-31T23:59:59.999+0000').getUTCFullYear()).toBe(99)
    expect(parseEvotorDateTime('0000-02-29T00:00:00+03:00').toISOString()).toBe('0000-02-28T21:00:00.000Z')
    expect(parseEvotorDateTime('0100-01-01T00:00:00Z').toISOString()).toBe('0100-01-01T00:00:00.000Z')
    // 1900 and 100 are not leap years; 0 and 2000 are, 4 and 96 are.
    expect(isEvotorDateTime('0096-02-29T00:00:00Z')).toBe(true)
    expect(isEvotorDateTime('0097-02-29T00:00:00Z')).toBe(false)
    expect(isEvotorDateTime('0100-02-29T00:00:00Z')).toBe(false)
  })

  it('answers exactly as the date-time regexp read with Number() does, for any string near the format', () => {
    // The reading before the character scanner: the reference the fast path must match.
    const reference = (raw: string): number | undefined => {
      const m =
        /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2})?)?$/.exec(
          raw,
        )
      if (m === null) return undefined
      const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
      const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)]
      const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
      if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined
      // setUTCFullYear reads years 0-99 as they are (Date.UTC would read them as 1900-1999).
      const date = new Date(0)
      date.setUTCFullYear(year, month - 1, day)
      date.setUTCHours(hour, minute, second, millis)
      const utc = date.getTime()
      if (date.getUTCDate() !== day) return undefined
      if (m[9] === undefined) return utc
      const [oh, om] = [Number(m[10]), Number(m[11] ?? 0)]
      if (oh > 23 || om > 59) return undefined
      return utc - (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000
    }
    const digit = fc.constantFrom(...'0123456789'.split(''))
    const num = (min: number, max: number) =>
      fc.array(digit, { minLength: min, maxLength: max }).map((d) => d.join(''))
    const piece = fc.oneof(
      num(1, 4),
      fc.constantFrom('-', ':', 'T', 't', ' ', '.', ',', 'Z', 'z', '+', '-', '', 'x', '٣'),
    )
    // Two characters: mostly digits in range, sometimes a digit next to a character just outside 0-9.
    const junk = fc.constantFrom('1a', 'a1', ':0', '0:', '/1', '1/', '٣1')
    const two = (min: number, max: number) =>
      fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min, max }).map((n) => String(n).padStart(2, '0')) },
        junk,
      )
    const often = <T>(usual: T, ...rare: T[]) =>
      fc.oneof({ weight: 6, arbitrary: fc.constant(usual) }, fc.constantFrom(...rare))
    // Mostly well-formed and in range (the scanner's path), with every part sometimes off.
    const near = fc
      .tuple(
        fc.oneof(
          fc.integer({ min: 1970, max: 2100 }).map(String),
          fc.integer({ min: 0, max: 199 }).map((year) => String(year).padStart(4, '0')),
          num(3, 5),
          junk.map((j) => `20${j}`),
        ),
        often('-', '/', ''),
        fc.oneof({ weight: 5, arbitrary: two(1, 12) }, two(0, 99), num(1, 3)),
        often('-', '.'),
        fc.oneof({ weight: 5, arbitrary: two(1, 31) }, two(0, 99)),
        often('T', 't', ' ', 'X', ''),
        fc.oneof({ weight: 5, arbitrary: two(0, 23) }, two(0, 99), num(1, 3)),
        often(':', '', '.'),
        fc.oneof({ weight: 5, arbitrary: two(0, 59) }, two(0, 99)),
        often(':', '', '.'),
        fc.oneof({ weight: 5, arbitrary: two(0, 59) }, two(0, 99), num(0, 3)),
        fc.oneof(
          fc.constant(''),
          fc.tuple(often('.', ','), num(0, 11), often('', ':', 'a', '/')).map((p) => p.join('')),
        ),
        fc.oneof(
          fc.constantFrom('', 'Z', 'z', 'ZZ', 'Z+', '+', '-'),
          fc
            .tuple(
              fc.constantFrom('+', '-', '+', '-', 'Z', ' ', '±'),
              fc.oneof(two(0, 23), two(0, 99), num(1, 3)),
              often('', ':', '::'),
              fc.oneof(two(0, 59), two(0, 99), num(0, 3)),
            )
            .map((p) => p.join('')),
        ),
      )
      .map((parts) => parts.join(''))
    const raw = fc.oneof(
      near,
      fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
      fc.string(),
    )
    fc.assert(
      fc.property(raw, (text) => {
        const expected = reference(text)
        expect(isEvotorDateTime(text)).toBe(expected !== undefined)
        if (expected !== undefined) expect(parseEvotorDateTime(text).getTime()).toBe(expected)
      }),
      { numRuns: 20_000 },
    )
  })

  it('the schema keeps the raw string', () => {
    expect(EvotorDateTimeSchema.parse('2017-04-20T18:26:37.753+0000')).toBe('2017-04-20T18:26:37.753+0000')
  })
})

describe('Evotor instants', () => {
  it('reads epoch seconds, milliseconds and microseconds', () => {
    expect(parseEvotorInstant(1504168645290).toISOString()).toBe('2017-08-31T08:37:25.290Z')
    expect(parseEvotorInstant('1504168645').toISOString()).toBe('2017-08-31T08:37:25.000Z')
    expect(parseEvotorInstant('1496826444000001').toISOString()).toBe('2017-06-07T09:07:24.000Z')
  })

  it('reads date-time strings and rejects anything else', () => {
    expect(parseEvotorInstant('2017-06-07T12:55:18Z').toISOString()).toBe('2017-06-07T12:55:18.000Z')
    expect(() => parseEvotorInstant('soon')).toThrow(RangeError)
    expect(EvotorInstantSchema.safeParse('soon').success).toBe(false)
    expect(EvotorInstantSchema.parse('1496826444000001')).toBe('1496826444000001')
  })
})

describe('openUnion', () => {
  const A = z.looseObject({ type: z.literal('A'), a: z.string() })
  const B = z.looseObject({ type: z.literal('B'), b: z.number() })
  const schema = openUnion('type', [A, B], z.looseObject({ key: z.string().nullish() }), {
    normaliseType: (raw) => raw.toUpperCase(),
  })

  it('dispatches on the discriminator and keeps unknown keys', () => {
    expect(schema.parse({ type: 'B', b: 1, extra: true })).toEqual({ type: 'B', b: 1, extra: true })
  })

  it('reports the issues of the matching member only, with their paths', () => {
    const result = schema.safeParse({ type: 'A', a: 1 })
    expect(result.error?.issues.map((issue) => [issue.code, issue.path])).toEqual([['invalid_type', ['a']]])
  })

  it('normalises the discriminator without mutating the input', () => {
    const input = { type: 'a', a: 'x' }
    expect(schema.parse(input)).toEqual({ type: 'A', a: 'x' })
    expect(input.type).toBe('a')
  })

  it('parses other types into the open member', () => {
    expect(schema.parse({ type: 'Zed', key: 'k' })).toEqual({ type: UNKNOWN_TYPE, rawType: 'Zed', key: 'k' })
  })

  it('rejects a missing discriminator and non-objects', () => {
    expect(schema.safeParse({}).error?.issues[0]?.path).toEqual(['type'])
    expect(schema.safeParse([]).error?.issues[0]?.code).toBe('invalid_type')
  })

  it('reports issues at their full path when nested', () => {
    const result = z.array(schema).safeParse([
      { type: 'B', b: 1 },
      { type: 'B', b: 'x' },
    ])
    expect(result.error?.issues[0]?.path).toEqual([1, 'b'])
  })

  it('refuses members without a literal discriminator', () => {
    expect(() => openUnion('type', [z.looseObject({ type: z.string() })], z.looseObject({}))).toThrow(
      TypeError,
    )
  })
})
