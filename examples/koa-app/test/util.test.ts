import { describe, expect, it } from 'vitest'
import { negateDecimal, sumDecimals, toDecimalString } from '../src/util/decimal.js'
import { toIsoUtc } from '../src/util/time.js'

describe('decimal helpers', () => {
  it('normalises numbers and numeric strings without float artefacts', () => {
    expect(toDecimalString(123.12)).toBe('123.12')
    expect(toDecimalString(0.1)).toBe('0.1')
    expect(toDecimalString(' 3548 ')).toBe('3548')
    expect(toDecimalString('-2.50')).toBe('-2.50')
    expect(toDecimalString(1e-7)).toBe('0.0000001')
    expect(toDecimalString('1e3')).toBeUndefined()
    expect(toDecimalString('.')).toBeUndefined()
    expect(toDecimalString(Number.NaN)).toBeUndefined()
    expect(toDecimalString(null)).toBeUndefined()
  })

  it('caps the fraction digits (rounded half away from zero, on the digits) and the integer digits', () => {
    expect(toDecimalString('0.123456789')).toBe('0.12345679')
    expect(toDecimalString('0.123456784')).toBe('0.12345678')
    expect(toDecimalString('-1.999999999')).toBe('-2.00000000')
    expect(toDecimalString('-0.000000001')).toBe('0.00000000')
    expect(toDecimalString(0.1234567891)).toBe('0.12345679')
    expect(toDecimalString(`0.${'1'.repeat(100_000)}`)).toBe('0.11111111')
    expect(toDecimalString('1.5')).toBe('1.5')
    expect(toDecimalString('9'.repeat(18))).toBe('9'.repeat(18))
    expect(toDecimalString('9'.repeat(19))).toBeUndefined()
    expect(toDecimalString(`${'9'.repeat(18)}.999999999`)).toBeUndefined()
    expect(sumDecimals([toDecimalString(`1.${'0'.repeat(50_000)}1`) ?? 'x', '1'])).toBe('2.00000000')
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
