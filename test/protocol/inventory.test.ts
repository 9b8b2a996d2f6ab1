import { describe, expect, expectTypeOf, it } from 'vitest'
import type { Decimal } from '../../src/protocol/ids.js'
import {
  CommoditiesQuerySchema,
  type Commodity,
  CommoditySchema,
  DevicesSchema,
  EmployeesSchema,
  type Product,
  ProductsSchema,
  StoresSchema,
} from '../../src/protocol/inventory.js'

describe('stores, devices, employees', () => {
  it('accept absent and null optional fields alike (A33) and keep unknown fields', () => {
    const stores = StoresSchema.parse([
      { uuid: 'S1', name: 'a' },
      { uuid: 'S2', name: 'b', address: null, code: 'c', future: 1 },
    ])
    expect(stores[1]).toEqual({ uuid: 'S2', name: 'b', address: null, code: 'c', future: 1 })
  })

  it('devices only require uuid; timezoneOffset may be a digit string', () => {
    expect(DevicesSchema.parse([{ uuid: 'D1', timezoneOffset: '10800000' }])[0]?.timezoneOffset).toBe(
      10800000,
    )
    expect(DevicesSchema.safeParse([{ name: 'no uuid' }]).success).toBe(false)
  })

  it('employee phone may be a number or a string and is a string (A41)', () => {
    const base = { uuid: 'E1', name: 'Иван', stores: ['S1'], role: 'MANUAL' }
    expect(EmployeesSchema.parse([{ ...base, phone: 79876543210 }])[0]?.phone).toBe('79876543210')
    expect(EmployeesSchema.parse([{ ...base, phone: '+79876543210' }])[0]?.phone).toBe('+79876543210')
  })
})

describe('products', () => {
  it('normalises the legacy barcodes/alcocodes aliases (A34)', () => {
    const [product] = ProductsSchema.parse([
      { uuid: 'p', name: 'n', group: false, barcodes: ['4600000000000'], alcocodes: ['0000000000000000001'] },
    ])
    expect(product?.barCodes).toEqual(['4600000000000'])
    expect(product?.alcoCodes).toEqual(['0000000000000000001'])
  })

  it('prefers barCodes when both spellings are present', () => {
    const [product] = ProductsSchema.parse([
      { uuid: 'p', name: 'n', group: false, barCodes: ['1'], barcodes: ['2'] },
    ])
    expect(product?.barCodes).toEqual(['1'])
  })

  it('does not enforce per-type required sets (A32) and keeps decimals as given', () => {
    const [product] = ProductsSchema.parse([
      { uuid: 'p', name: 'n', group: false, type: 'ALCOHOL_MARKED', price: '10.10' },
    ])
    expect(product?.price).toBe('10.10')
  })

  it('rejects non-numeric prices', () => {
    const result = ProductsSchema.safeParse([{ uuid: 'p', name: 'n', group: false, price: 'ten' }])
    expect(result.error?.issues[0]?.path).toEqual([0, 'price'])
  })

  it('types: decimals are number | string', () => {
    expectTypeOf<Product['price']>().toEqualTypeOf<Decimal | null | undefined>()
    expectTypeOf<Product['uuid']>().toEqualTypeOf<string>()
  })
})

describe('commodities', () => {
  it('query: scanCode is required, alcCode optional, repeated keys give the first value', () => {
    expect(CommoditiesQuerySchema.parse({ scanCode: '2000000000060' })).toEqual({ scanCode: '2000000000060' })
    expect(CommoditiesQuerySchema.parse({ scanCode: ['1', '2'], alcCode: ['3'] })).toEqual({
      scanCode: '1',
      alcCode: '3',
    })
    expect(CommoditiesQuerySchema.safeParse({ alcCode: '3' }).success).toBe(false)
    expect(CommoditiesQuerySchema.safeParse({ scanCode: '' }).success).toBe(false)
  })

  it('response is strict (protocol §6.4)', () => {
    expect(CommoditySchema.safeParse({ name: 'Сидр', measure: 'шт' }).success).toBe(true)
    expect(CommoditySchema.safeParse({ name: '', measure: 'шт' }).success).toBe(false)
    expect(CommoditySchema.safeParse({ name: 'x'.repeat(101), measure: 'шт' }).success).toBe(false)
    expect(CommoditySchema.safeParse({ name: 'x' }).success).toBe(false)
    expect(CommoditySchema.safeParse({ name: 'x', measure: 'шт', alcCodes: ['123'] }).success).toBe(false)
    expect(CommoditySchema.safeParse({ name: 'x', measure: 'шт', alcoholByVolume: 100 }).success).toBe(false)
    expect(CommoditySchema.safeParse({ name: 'x', measure: 'шт', alcoholProductKindCode: 1.5 }).success).toBe(
      false,
    )
    expect(CommoditySchema.safeParse({ name: 'x', measure: 'шт', tareVolume: 1000 }).success).toBe(false)
    expect(CommoditySchema.safeParse({ name: 'x', measure: 'шт', barCodes: [] }).success).toBe(false)
  })

  it('types: the handler returns name and measure', () => {
    expectTypeOf<Commodity['name']>().toEqualTypeOf<string>()
    expectTypeOf<Commodity['alcCodes']>().toEqualTypeOf<string[] | null | undefined>()
  })
})
