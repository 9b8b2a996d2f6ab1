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
