import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  DocumentsV1Schema,
  type DocumentV1Transaction,
  DocumentV1TransactionSchema,
  ReceiptsV2Schema,
  TRANSACTION_TYPES,
} from '../../src/protocol/documents.js'
import type { Decimal } from '../../src/protocol/ids.js'

const receipt = { id: 'evt-1', timestamp: 1496826444000, data: { id: 'r-1', items: [{ price: '1.10' }] } }

describe('documents v1', () => {
  it('only uuid and type are required (A28)', () => {
    expect(DocumentsV1Schema.parse([{ uuid: 'd', type: 'NEW_TYPE' }])).toEqual([
      { uuid: 'd', type: 'NEW_TYPE' },
    ])
    const result = DocumentsV1Schema.safeParse([{ type: 'SELL' }])
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([[0, 'uuid']])
  })

  it('validates document date-times but keeps them raw', () => {
    const [doc] = DocumentsV1Schema.parse([
      { uuid: 'd', type: 'SELL', openDate: '2016-09-13T14:32:09.000+0000' },
    ])
    expect(doc?.openDate).toBe('2016-09-13T14:32:09.000+0000')
    expect(DocumentsV1Schema.safeParse([{ uuid: 'd', type: 'SELL', openDate: 'never' }]).success).toBe(false)
  })

  it('transactions: discriminated with an open fallback and number | string numerics (A29)', () => {
    expect(TRANSACTION_TYPES).toHaveLength(19)
    const payment = DocumentV1TransactionSchema.parse({
      type: 'PAYMENT',
      id: '7',
      sum: '-50.5',
      paymentType: 'CASH',
    })
    expect(payment).toEqual({ type: 'PAYMENT', id: '7', sum: '-50.5', paymentType: 'CASH' })
    const unknown = DocumentV1TransactionSchema.parse({ type: 'LOYALTY', id: 8, points: 3 })
    expect(unknown).toEqual({ type: 'Unknown', rawType: 'LOYALTY', id: 8, points: 3 })
  })

  it('reports transaction errors at their full path', () => {
    const result = DocumentsV1Schema.safeParse([
      { uuid: 'd', type: 'SELL', transactions: [{ type: 'PAYMENT' }, { type: 'PAYMENT', sum: 'lots' }] },
    ])
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([[0, 'transactions', 1, 'sum']])
  })

  it('types: narrowing a transaction', () => {
    const t = {} as DocumentV1Transaction
    if (t.type === 'REGISTER_POSITION') expectTypeOf(t.price).toEqualTypeOf<Decimal | null | undefined>()
    if (t.type === 'Unknown') expectTypeOf(t.rawType).toEqualTypeOf<string>()
  })
})

describe('receipts v2', () => {
  it('an object becomes an array of one (A16)', () => {
    expect(ReceiptsV2Schema.parse(receipt)).toEqual([receipt])
  })

  it('an array stays an array', () => {
    expect(ReceiptsV2Schema.parse([receipt, { ...receipt, id: 'evt-2' }]).map((r) => r.id)).toEqual([
      'evt-1',
      'evt-2',
    ])
  })

  it('error paths follow the body as sent', () => {
    const bad = { ...receipt, data: { ...receipt.data, id: undefined } }
    expect(ReceiptsV2Schema.safeParse(bad).error?.issues[0]?.path).toEqual(['data', 'id'])
    expect(ReceiptsV2Schema.safeParse([receipt, bad]).error?.issues[0]?.path).toEqual([1, 'data', 'id'])
  })

  it('timestamp: number or numeric string (A17), not free text', () => {
    expect(ReceiptsV2Schema.parse({ ...receipt, timestamp: '1496826444000001' })[0]?.timestamp).toBe(
      '1496826444000001',
    )
    expect(ReceiptsV2Schema.safeParse({ ...receipt, timestamp: 'now' }).success).toBe(false)
  })
})
