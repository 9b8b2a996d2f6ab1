/**
 * Terminal documents v1 (protocol §6.11, §9.4) and receipts v2 (§6.12, §9.6). Both are parsed
 * leniently: the documented required lists are not enforced (§11 A28), numerics are
 * `number | string` (§11 A29, A30), unknown document and transaction types are accepted.
 */
import { z } from 'zod'
import {
  arrayOf,
  copyUnknownKeys,
  FAIL,
  type FastCheck,
  isObjectValue,
  nullish,
  plainRecordCopy,
  schemaKeys,
} from './fast-parse.js'
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

// The receipts fast path (fast-parse.ts): the rules of the schemas above, written out with literal
// keys (a loop over key names makes every read and write megamorphic, slower than zod itself).
type Obj = Record<string, unknown>
const isS = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string'
const isD = (v: unknown): boolean => v === undefined || v === null || isDecimal(v)
const isNS = (v: unknown): boolean => v === undefined || v === null || isNumberOrString(v)
const isB = (v: unknown): boolean => v === undefined || v === null || typeof v === 'boolean'
const isInstant = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  (typeof v === 'number' ? Number.isFinite(v) : typeof v === 'string' && isEvotorInstantString(v))

const ITEM_KEYS = schemaKeys(ReceiptItemSchema, [
  'id',
  'name',
  'itemType',
  'measureName',
  'quantity',
  'price',
  'costPrice',
  'sumPrice',
  'tax',
  'taxPercent',
  'discount',
])
const DATA_KEYS = schemaKeys(ReceiptDataSchema, [
  'id',
  'deviceId',
  'storeId',
  'dateTime',
  'type',
  'shiftId',
  'employeeId',
  'paymentSource',
  'infoCheck',
  'egais',
  'items',
  'totalTax',
  'totalDiscount',
  'totalAmount',
  'extras',
])
const EVENT_KEYS = schemaKeys(ReceiptEventV2Schema, ['id', 'timestamp', 'userId', 'type', 'version', 'data'])

function fastItem(value: unknown): unknown {
  if (!isObjectValue(value)) return FAIL
  const v = value as Obj
  const out: Obj = {}
  if ('id' in v) {
    if (!isS(v.id)) return FAIL
    out.id = v.id
  }
  if ('name' in v) {
    if (!isS(v.name)) return FAIL
    out.name = v.name
  }
  if ('itemType' in v) {
    if (!isS(v.itemType)) return FAIL
    out.itemType = v.itemType
  }
  if ('measureName' in v) {
    if (!isS(v.measureName)) return FAIL
    out.measureName = v.measureName
  }
  if ('quantity' in v) {
    if (!isD(v.quantity)) return FAIL
    out.quantity = v.quantity
  }
  if ('price' in v) {
    if (!isD(v.price)) return FAIL
    out.price = v.price
  }
  if ('costPrice' in v) {
    if (!isD(v.costPrice)) return FAIL
    out.costPrice = v.costPrice
  }
  if ('sumPrice' in v) {
    if (!isD(v.sumPrice)) return FAIL
    out.sumPrice = v.sumPrice
  }
  if ('tax' in v) {
    if (!isD(v.tax)) return FAIL
    out.tax = v.tax
  }
  if ('taxPercent' in v) {
    if (!isD(v.taxPercent)) return FAIL
    out.taxPercent = v.taxPercent
  }
  if ('discount' in v) {
    if (!isD(v.discount)) return FAIL
    out.discount = v.discount
  }
  return copyUnknownKeys(v, out, ITEM_KEYS)
}

const fastItems = nullish(arrayOf(fastItem))
const fastExtras = nullish(plainRecordCopy)

function fastData(value: unknown): unknown {
  if (!isObjectValue(value)) return FAIL
  const v = value as Obj
  const out: Obj = {}
  if (!('id' in v) || !isEvotorId(v.id)) return FAIL
  out.id = v.id
  if ('deviceId' in v) {
    if (!isS(v.deviceId)) return FAIL
    out.deviceId = v.deviceId
  }
  if ('storeId' in v) {
    if (!isS(v.storeId)) return FAIL
    out.storeId = v.storeId
  }
  if ('dateTime' in v) {
    if (!isInstant(v.dateTime)) return FAIL
    out.dateTime = v.dateTime
  }
  if ('type' in v) {
    if (!isS(v.type)) return FAIL
    out.type = v.type
  }
  if ('shiftId' in v) {
    if (!isNS(v.shiftId)) return FAIL
    out.shiftId = v.shiftId
  }
  if ('employeeId' in v) {
    if (!isS(v.employeeId)) return FAIL
    out.employeeId = v.employeeId
  }
  if ('paymentSource' in v) {
    if (!isS(v.paymentSource)) return FAIL
    out.paymentSource = v.paymentSource
  }
  if ('infoCheck' in v) {
    if (!isB(v.infoCheck)) return FAIL
    out.infoCheck = v.infoCheck
  }
  if ('egais' in v) {
    if (!isB(v.egais)) return FAIL
    out.egais = v.egais
  }
  if ('items' in v) {
    const items = fastItems(v.items)
    if (items === FAIL) return FAIL
    out.items = items
  }
  if ('totalTax' in v) {
    if (!isD(v.totalTax)) return FAIL
    out.totalTax = v.totalTax
  }
  if ('totalDiscount' in v) {
    if (!isD(v.totalDiscount)) return FAIL
    out.totalDiscount = v.totalDiscount
  }
  if ('totalAmount' in v) {
    if (!isD(v.totalAmount)) return FAIL
    out.totalAmount = v.totalAmount
  }
  if ('extras' in v) {
    const extras = fastExtras(v.extras)
    if (extras === FAIL) return FAIL
    out.extras = extras
  }
  return copyUnknownKeys(v, out, DATA_KEYS)
}

function fastEvent(value: unknown): unknown {
  if (!isObjectValue(value)) return FAIL
  const v = value as Obj
  const out: Obj = {}
  if (!('id' in v) || !isEvotorId(v.id)) return FAIL
  out.id = v.id
  if ('timestamp' in v) {
    if (!isInstant(v.timestamp)) return FAIL
    out.timestamp = v.timestamp
  }
  if ('userId' in v) {
    if (!isS(v.userId)) return FAIL
    out.userId = v.userId
  }
  if ('type' in v) {
    if (!isS(v.type)) return FAIL
    out.type = v.type
  }
  if ('version' in v) {
    if (!isNS(v.version)) return FAIL
    out.version = v.version
  }
  const data = 'data' in v ? fastData(v.data) : FAIL
  if (data === FAIL) return FAIL
  out.data = data
  return copyUnknownKeys(v, out, EVENT_KEYS)
}

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
