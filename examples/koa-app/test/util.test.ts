import { describe, expect, it } from 'vitest'
import { MAX_DECIMAL_DIGITS, negateDecimal, sumDecimals, toDecimalString } from '../src/util/decimal.js'
import { toIsoUtc } from '../src/util/time.js'

describe('decimal helpers', () => {
  it('normalises numbers and numeric strings without float artefacts', () => {
    expect(toDecimalString(123.12)).toBe('123.12')
    expect(toDecimalString(0.1)).toBe('0.1')
    expect(toDecimalString(' 3548 ')).toBe('3548')
    expect(toDecimalString('-2.50')).toBe('-2.50')
    expect(toDecimalString('+007.5')).toBe('7.5')
    expect(toDecimalString('.5')).toBe('0.5')
    expect(toDecimalString('-0.00')).toBe('0.00')
    expect(toDecimalString(1e-7)).toBe('0.0000001')
    expect(toDecimalString('.')).toBeUndefined()
    expect(toDecimalString('1e')).toBeUndefined()
    expect(toDecimalString('abc')).toBeUndefined()
    expect(toDecimalString(Number.NaN)).toBeUndefined()
    expect(toDecimalString(Number.POSITIVE_INFINITY)).toBeUndefined()
    expect(toDecimalString(null)).toBeUndefined()
  })

  it('keeps every digit: no rounding, no integer-digit cap (protocol §11 A30)', () => {
    expect(toDecimalString('12345678901234567890.123456789')).toBe('12345678901234567890.123456789')
    expect(toDecimalString('0.123456789123456789')).toBe('0.123456789123456789')
    expect(toDecimalString('-1.999999999')).toBe('-1.999999999')
    expect(toDecimalString(`${'9'.repeat(300)}.5`)).toBe(`${'9'.repeat(300)}.5`)
    expect(toDecimalString(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991')
  })

  it('expands exponent notation exactly (numbers printed as 1e+21, strings like "1.5e3")', () => {
    expect(toDecimalString('1e3')).toBe('1000')
    expect(toDecimalString('1.5e3')).toBe('1500')
    expect(toDecimalString('-2.5E-3')).toBe('-0.0025')
    expect(toDecimalString('123.45e1')).toBe('1234.5')
    expect(toDecimalString('0.00e5')).toBe('0')
    expect(toDecimalString(1e21)).toBe(`1${'0'.repeat(21)}`)
    expect(toDecimalString(1.5e-10)).toBe('0.00000000015')
    expect(toDecimalString(5e-324)).toBe(`0.${'0'.repeat(323)}5`)
    expect(toDecimalString(Number.MAX_VALUE)?.length).toBe(309)
    expect(toDecimalString('1e400')).toBe(`1${'0'.repeat(400)}`)
  })

  it(`refuses values wider than ${MAX_DECIMAL_DIGITS} digits instead of rounding them`, () => {
    expect(toDecimalString(`1e${MAX_DECIMAL_DIGITS - 1}`)).toHaveLength(MAX_DECIMAL_DIGITS)
    expect(toDecimalString(`1e${MAX_DECIMAL_DIGITS}`)).toBeUndefined()
    expect(toDecimalString('1e-100000')).toBeUndefined()
    expect(toDecimalString('1e9999999999')).toBeUndefined()
    expect(toDecimalString(`0.${'1'.repeat(100_000)}`)).toBeUndefined()
    // Trailing zeros are dropped only when needed to fit: the value is kept exactly.
    expect(toDecimalString(`1.${'0'.repeat(100_000)}`)).toBe('1')
    expect(sumDecimals([toDecimalString(`1.${'0'.repeat(998)}1`) ?? 'x', '1'])).toBe(`2.${'0'.repeat(998)}1`)
  })

  it('sums exactly with at least two fraction digits', () => {
    expect(sumDecimals(['0.1', '0.2'])).toBe('0.30')
    expect(sumDecimals([])).toBe('0.00')
    expect(sumDecimals(['123.12', '-23.12'])).toBe('100.00')
    expect(sumDecimals(['100', '-0.005'])).toBe('99.995')
    expect(sumDecimals(['-1.5', '0.25'])).toBe('-1.25')
    expect(sumDecimals(Array.from({ length: 1000 }, () => '0.01'))).toBe('10.00')
    expect(negateDecimal('12.50')).toBe('-12.50')
    expect(negateDecimal('-3')).toBe('3')
  })
})

describe('toIsoUtc', () => {
  it('parses Evotor date-times, offsets and epochs', () => {
    expect(toIsoUtc('2017-04-20T18:26:37.753+0000')).toBe('2017-04-20T18:26:37.753Z')
    expect(toIsoUtc('2017-06-07T12:55:18Z')).toBe('2017-06-07T12:55:18.000Z')
    expect(toIsoUtc('2017-06-07T15:55:18+03:00')).toBe('2017-06-07T12:55:18.000Z')
    expect(toIsoUtc('2017-06-07T15:55:18.1+0300')).toBe('2017-06-07T12:55:18.100Z')
    expect(toIsoUtc(1504168645290)).toBe('2017-08-31T08:37:25.290Z')
    expect(toIsoUtc(1504168645)).toBe('2017-08-31T08:37:25.000Z')
    expect(toIsoUtc('1496826444000001')).toBe('2017-06-07T09:07:24.000Z')
    expect(toIsoUtc(new Date('2020-01-01T00:00:00Z'))).toBe('2020-01-01T00:00:00.000Z')
    expect(toIsoUtc('yesterday')).toBeUndefined()
    expect(toIsoUtc(undefined)).toBeUndefined()
  })
})
