/**
 * Terminal documents v1 (protocol §6.11, §9.4) and receipts v2 (§6.12, §9.6). Both are parsed
 * leniently: the documented required lists are not enforced (§11 A28), numerics are
 * `number | string` (§11 A29, A30), unknown document and transaction types are accepted.
 */
import { z } from 'zod'
import { arrayOf, FAIL, type FastCheck, kept, looseObject, nullish, plainRecordCopy } from './fast-parse.js'
import {
  DecimalSchema,
  EvotorDateTimeSchema,
  EvotorIdSchema,
  EvotorInstantSchema,
  isDecimal,
  isEvotorId,
  isEvotorInstantString,
  isNumberOrString,
  NumberOrStringSchema,
  openUnion,
} from './ids.js'

/**
 * Document types of the v1 enum plus `BUY`/`BUYBACK` documented elsewhere (protocol §9.4, §11 A28).
 *
 * @example
 * ```ts
 * DOCUMENT_V1_TYPES.includes('SELL') // true
 * ```
 */
export const DOCUMENT_V1_TYPES = [
  'SELL',
  'PAYBACK',
  'CASH_INCOME',
  'CASH_OUTCOME',
  'OPEN_SESSION',
  'FPRINT',
  'CLOSE_SESSION',
  'INVENTORY',
  'ACCEPT',
  'RETURN',
  'WRITE_OFF',
  'REVALUATION',
  'OPEN_TARE',
  'BUY',
  'BUYBACK',
] as const

/**
 * One of {@link DOCUMENT_V1_TYPES}.
 *
 * @example
 * ```ts
 * const t: DocumentV1Type = 'PAYBACK'
 * ```
 */
export type DocumentV1Type = (typeof DOCUMENT_V1_TYPES)[number]

const D = DecimalSchema.nullish()
const NS = NumberOrStringSchema.nullish()
const S = z.string().nullish()

const transactionCommon = {
  id: NS,
  uuid: S,
  creationDate: S,
  userUuid: S,
  userCode: NS,
  timezone: NS,
}

const client = { clientName: S, clientPhone: NS, couponNumber: NS }
const baseDocument = { baseDocumentNumber: NS, baseDocumentUUID: S }
const commodity = { commodityUuid: S, commodityCode: NS, barcode: S }

const paymentSection = z.looseObject({
  reversal: D,
  summ: D,
  sections: z.array(z.looseObject({ name: S, number: NS, value: D })).nullish(),
})

function tx<const T extends string, Shape extends z.core.$ZodLooseShape>(type: T, shape: Shape) {
  return z.looseObject({ ...transactionCommon, type: z.literal(type), ...shape })
}

const transactionMembers = [
  tx('DOCUMENT_OPEN', { ...client, ...baseDocument }),
  tx('DOCUMENT_CLOSE', { sum: D, quantity: D, ...client, ...baseDocument }),
  tx('DOCUMENT_CLOSE_FPRINT', { total: D, receiptNumber: NS, sessionNumber: NS, documentNumber: NS }),
  tx('REGISTER_POSITION', {
    ...commodity,
    commodityName: S,
    commodityType: S,
    measureName: S,
    price: D,
    resultPrice: D,
    sum: D,
    resultSum: D,
    quantity: D,
    costPrice: D,
    balanceQuantity: D,
    mark: S,
    alcoholByVolume: D,
    alcoholProductKindCode: NS,
    tareVolume: D,
    fprintSection: NS,
    positionId: NS,
    extraKeys: z.array(z.looseObject({ identity: S, appId: S, description: S })).nullish(),
  }),
  tx('REGISTER_BILLS', { denomination: D, quantity: D, sum: D }),
  tx('DISCOUNT_POSITION', { discountSum: D, discountType: NS, percent: D }),
  tx('DISCOUNT_DOCUMENT_POSITION', {
    ...client,
    discountDocumentSum: D,
    discountPositionPercent: D,
    discountPositionSum: D,
    discountType: NS,
  }),
  tx('DISCOUNT_DOCUMENT', { ...client, discountSum: D, discountType: NS, percent: D }),
  tx('POSITION_TAX', {
    ...commodity,
    tax: S,
    taxSum: D,
    taxPercent: D,
    taxRateCode: NS,
    resultSum: D,
    resultPrice: D,
    resultTaxSum: D,
  }),
  tx('PAYMENT', { sum: D, paymentType: S, rrn: NS }),
  tx('CASH_INCOME', { sum: D }),
  tx('CASH_OUTCOME', { sum: D, paymentCategoryId: NS }),
  tx('INVENTORY', { ...commodity, quantity: D, balanceQuantity: D }),
  tx('REVALUATION', { ...commodity, oldPrice: D, newPrice: D, acceptPrice: D }),
  tx('OPEN_SESSION', {}),
  tx('CLOSE_SESSION', { proceeds: D, total: D }),
  tx('FPRINT_OPEN_SESSION', {}),
  tx('FPRINT_X_REPORT', {
    cash: D,
    proceeds: D,
    total: D,
    receiptNumber: NS,
    documentNumber: NS,
    sessionNumber: NS,
  }),
  tx('FPRINT_Z_REPORT', {
    cash: D,
    cashIn: D,
    cashInQuantity: NS,
    cashOut: D,
    cashOutQuantity: NS,
    collection: D,
    revenue: D,
    proceeds: D,
    total: D,
    nonzeroSumSales: D,
    nonzeroSumPurchases: D,
    sessionSalesResults: D,
    sessionPurchasesResults: D,
    receiptNumber: NS,
    documentNumber: NS,
    sessionNumber: NS,
    sales: paymentSection.nullish(),
    salesBack: paymentSection.nullish(),
    purchases: paymentSection.nullish(),
    purchasesBack: paymentSection.nullish(),
  }),
] as const

/**
 * Transaction types of the v1 schema (protocol §9.4).
 *
 * @example
 * ```ts
 * TRANSACTION_TYPES.includes('PAYMENT') // true
 * ```
 */
export const TRANSACTION_TYPES = transactionMembers.map((member) => member.shape.type.value) as ReadonlyArray<
  (typeof transactionMembers)[number]['shape']['type']['value']
>

/**
 * One of {@link TRANSACTION_TYPES}.
 *
 * @example
 * ```ts
 * const t: TransactionType = 'REGISTER_POSITION'
 * ```
 */
export type TransactionType = (typeof TRANSACTION_TYPES)[number]

/**
 * A transaction of a v1 document (protocol §9.4, §11 A29): discriminated on `type`; every field
 * is optional and numerics are `number | string` as observed in the samples; other types parse
 * into the open member (`type: 'Unknown'`, `rawType`). Unknown keys (such as the Z report's
 * `"quantitySales "` with its trailing space) are kept.
 *
 * @example
 * ```ts
 * const t = DocumentV1TransactionSchema.parse({ type: 'PAYMENT', id: 7, sum: '100.50', paymentType: 'CASH' })
 * if (t.type === 'PAYMENT') t.sum // '100.50'
 * ```
 */
export const DocumentV1TransactionSchema = openUnion(
  'type',
  transactionMembers,
  z.looseObject(transactionCommon),
)

/**
 * A parsed v1 transaction; narrow it with `transaction.type`.
 *
 * @example
 * ```ts
 * const paid = (t: DocumentV1Transaction) => (t.type === 'PAYMENT' ? t.sum : undefined)
 * ```
 */
export type DocumentV1Transaction = z.output<typeof DocumentV1TransactionSchema>

/**
 * A v1 document (protocol §9.4) as sent to `PUT …/stores/{storeUuid}/documents`. Only `uuid` (the
 * idempotency key) and `type` are required; `storeUuid`, `version` and the rest are optional
 * (§11 A28); `type` is any string (`BUY`, `BUYBACK` and future types included); open/close
 * dates are validated date-time strings kept raw.
 *
 * @example
 * ```ts
 * const doc = DocumentV1Schema.parse(sample)
 * for (const t of doc.transactions ?? []) if (t.type === 'REGISTER_POSITION') console.log(t.commodityName)
 * ```
 */
export const DocumentV1Schema = z.looseObject({
  uuid: EvotorIdSchema,
  type: z.string().min(1) as z.ZodType<DocumentV1Type | (string & {}), string>,
  transactions: z.array(DocumentV1TransactionSchema).nullish(),
  deviceUuid: S,
  deviceId: NS,
  storeUuid: S,
  openDate: EvotorDateTimeSchema.nullish(),
  closeDate: EvotorDateTimeSchema.nullish(),
  openUserCode: NS,
  closeUserCode: NS,
  openUserUuid: S,
  closeUserUuid: S,
  sessionUUID: S,
  sessionNumber: NS,
  number: NS,
  closeResultSum: D,
  closeSum: D,
  extras: z.record(z.string(), z.unknown()).nullish(),
  version: S,
})

/**
 * A parsed v1 document.
 *
 * @example
 * ```ts
 * const key = (d: DocumentV1) => d.uuid
 * ```
 */
export type DocumentV1 = z.output<typeof DocumentV1Schema>

/**
 * Body of `PUT /api/v1/inventories/stores/{storeUuid}/documents`: an array of {@link DocumentV1}.
 *
 * @example
 * ```ts
 * const documents = DocumentsV1Schema.parse(body)
 * ```
 */
export const DocumentsV1Schema = z.array(DocumentV1Schema)

/**
 * One line of a v2 receipt (protocol §9.6): amounts are {@link Decimal}s.
 *
 * @example
 * ```ts
 * ReceiptItemSchema.parse({ id: 'p1', name: 'Сидр', quantity: 1, price: 123.12 })
 * ```
 */
export const ReceiptItemSchema = z.looseObject({
  id: S,
  name: S,
  itemType: S,
  measureName: S,
  quantity: D,
  price: D,
  costPrice: D,
  sumPrice: D,
  tax: D,
  taxPercent: D,
  discount: D,
})

/**
 * The `data` of a v2 receipt event: the receipt itself (protocol §9.6).
 *
 * @example
 * ```ts
 * ReceiptDataSchema.parse({ id: 'r1', items: [] })
 * ```
 */
export const ReceiptDataSchema = z.looseObject({
  id: EvotorIdSchema,
  deviceId: S,
  storeId: S,
  dateTime: EvotorInstantSchema.nullish(),
  type: S,
  shiftId: NS,
  employeeId: S,
  paymentSource: S,
  infoCheck: z.boolean().nullish(),
  egais: z.boolean().nullish(),
  items: z.array(ReceiptItemSchema).nullish(),
  totalTax: D,
  totalDiscount: D,
  totalAmount: D,
  extras: z.record(z.string(), z.unknown()).nullish(),
})

/**
 * One receipt event of `POST /api/v2/receipts` (protocol §9.6): `id` (event id) and `data.id`
 * (receipt id) are the idempotency keys (§5.1); `timestamp` and `data.dateTime` are kept raw as
 * {@link EvotorInstant}s (§11 A17).
 *
 * @example
 * ```ts
 * const receipt = ReceiptEventV2Schema.parse(body)
 * parseEvotorInstant(receipt.timestamp ?? Date.now())
 * ```
 */
export const ReceiptEventV2Schema = z.looseObject({
  id: EvotorIdSchema,
  timestamp: EvotorInstantSchema.nullish(),
  userId: S,
  type: S,
  version: NS,
  data: ReceiptDataSchema,
})

/**
 * A parsed v2 receipt event.
 *
 * @example
 * ```ts
 * const total = (r: ReceiptEventV2) => r.data.totalAmount
 * ```
 */
export type ReceiptEventV2 = z.output<typeof ReceiptEventV2Schema>

const receiptArray = z.array(ReceiptEventV2Schema)

// The receipts fast path (fast-parse.ts): one check per schema key, the same rules as the schemas above.
const fastS = nullish(kept((value) => typeof value === 'string'))
const fastD = nullish(kept(isDecimal))
const fastNS = nullish(kept(isNumberOrString))
const fastBoolean = nullish(kept((value) => typeof value === 'boolean'))
const fastId = kept(isEvotorId)
const fastInstant = nullish(
  kept((value) =>
    typeof value === 'number'
      ? Number.isFinite(value)
      : typeof value === 'string' && isEvotorInstantString(value),
  ),
)
const fastItem = looseObject(ReceiptItemSchema, {
  id: fastS,
  name: fastS,
  itemType: fastS,
  measureName: fastS,
  quantity: fastD,
  price: fastD,
  costPrice: fastD,
  sumPrice: fastD,
  tax: fastD,
  taxPercent: fastD,
  discount: fastD,
})
const fastData = looseObject(ReceiptDataSchema, {
  id: fastId,
  deviceId: fastS,
  storeId: fastS,
  dateTime: fastInstant,
  type: fastS,
  shiftId: fastNS,
  employeeId: fastS,
  paymentSource: fastS,
  infoCheck: fastBoolean,
  egais: fastBoolean,
  items: nullish(arrayOf(fastItem)),
  totalTax: fastD,
  totalDiscount: fastD,
  totalAmount: fastD,
  extras: nullish(plainRecordCopy),
})
const fastEvent = looseObject(ReceiptEventV2Schema, {
  id: fastId,
  timestamp: fastInstant,
  userId: fastS,
  type: fastS,
  version: fastNS,
  data: fastData,
})
const fastEvents: FastCheck = arrayOf(fastEvent)

/**
 * What {@link ReceiptsV2Schema} outputs for `input` when it certainly passes, else `undefined`
 * (then zod decides, and reports the errors). Exactly zod's output: tests compare the two.
 *
 * @internal
 */
export function fastReceipts(input: unknown): ReceiptEventV2[] | undefined {
  if (Array.isArray(input)) {
    const events = fastEvents(input)
    return events === FAIL ? undefined : (events as ReceiptEventV2[])
  }
  const event = fastEvent(input)
  return event === FAIL ? undefined : [event as ReceiptEventV2]
}

/**
 * Body of `POST /api/v2/receipts`: one receipt event or an array of them, always normalised to
 * an array (protocol §11 A16). Error paths are those of the body as sent (`data.id` for an
 * object, `0.data.id` for an array).
 *
 * @example
 * ```ts
 * ReceiptsV2Schema.parse(singleReceipt).length // 1
 * ```
 */
export const ReceiptsV2Schema = z.unknown().transform((input, ctx): ReceiptEventV2[] => {
  // Most bodies are well-formed: checked by hand at a fraction of zod's cost, with zod's output.
  const fast = fastReceipts(input)
  if (fast !== undefined) return fast
  const result = Array.isArray(input)
    ? receiptArray.safeParse(input, { reportInput: true })
    : ReceiptEventV2Schema.safeParse(input, { reportInput: true })
  if (result.success) return Array.isArray(result.data) ? result.data : [result.data]
  for (const issue of result.error.issues) ctx.issues.push(issue as z.core.$ZodRawIssue)
  return z.NEVER
})

/**
 * What a `receipts` handler receives: always an array.
 *
 * @example
 * ```ts
 * const ids = (receipts: ReceiptsV2) => receipts.map((r) => r.data.id)
 * ```
 */
export type ReceiptsV2 = z.output<typeof ReceiptsV2Schema>
