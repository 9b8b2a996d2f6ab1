/**
 * Inventory webhooks (protocol §6.7–6.10, §9.1–9.3): stores, devices, employees, products, and
 * the `commodity` answer of `GET /api/v1/commodities` (§6.4). Incoming data is lenient; the
 * commodity answer is strict.
 */
import { z } from 'zod'
import { deviceFromV2, employeeFromV2, productFromV2, storeFromV2 } from './cloud.js'
import { type Decimal, DecimalSchema, EvotorIdSchema, IntegerLikeSchema } from './ids.js'

/**
 * A store from `PUT /api/v1/inventories/stores` (`storeWithoutCode`, protocol §6.7); REST's `code`
 * is accepted too (§9.2).
 *
 * @example
 * ```ts
 * StoreSchema.parse({ uuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB', name: 'Мой магазин' })
 * ```
 */
export const StoreSchema = z.preprocess(
  storeFromV2, // a v2 snake_case store (`{id, …}`) is accepted too (cloud.ts)
  z.looseObject({
    uuid: EvotorIdSchema,
    name: z.string(),
    address: z.string().nullish(),
    code: z.string().nullish(),
  }),
)

/**
 * A parsed store.
 *
 * @example
 * ```ts
 * const upsert = (store: Store) => db.stores.put(store.uuid, store)
 * ```
 */
export type Store = z.output<typeof StoreSchema>

/**
 * Body of `PUT /api/v1/inventories/stores`: an array of {@link Store}.
 *
 * @example
 * ```ts
 * const stores = StoresSchema.parse(body)
 * ```
 */
export const StoresSchema = z.array(StoreSchema)

/**
 * A terminal from `PUT /api/v1/inventories/devices` (`deviceWithoutCode`, protocol §6.8). The spec
 * has no required list; only `uuid` is required here because it is the upsert key (§5.1).
 *
 * @example
 * ```ts
 * DeviceSchema.parse({ uuid: '20170222-D58C-40E0-8051-B53ADFF38860', timezoneOffset: 10800000 })
 * ```
 */
export const DeviceSchema = z.preprocess(
  deviceFromV2, // v2 snake_case accepted (cloud.ts)
  z.looseObject({
    uuid: EvotorIdSchema,
    name: z.string().nullish(),
    storeUuid: z.string().nullish(),
    timezoneOffset: IntegerLikeSchema.nullish(),
    code: z.string().nullish(),
  }),
)

/**
 * A parsed terminal; `timezoneOffset` is in milliseconds.
 *
 * @example
 * ```ts
 * const offsetHours = (d: Device) => (d.timezoneOffset ?? 0) / 3_600_000
 * ```
 */
export type Device = z.output<typeof DeviceSchema>

/**
 * Body of `PUT /api/v1/inventories/devices`: an array of {@link Device}.
 *
 * @example
 * ```ts
 * const devices = DevicesSchema.parse(body)
 * ```
 */
export const DevicesSchema = z.array(DeviceSchema)

/**
 * Documented employee roles (protocol §6.9); other strings are accepted.
 *
 * @example
 * ```ts
 * EMPLOYEE_ROLES.includes('ADMIN') // true
 * ```
 */
export const EMPLOYEE_ROLES = ['ADMIN', 'CASHIER', 'MANUAL'] as const

/**
 * Schema of a phone number sent as a JSON number or a string; the output is always a string
 * (`79876543210` -> `'79876543210'`, protocol §11 A41).
 *
 * @example
 * ```ts
 * PhoneSchema.parse(79876543210) // '79876543210'
 * ```
 */
export const PhoneSchema: z.ZodType<string, string | number> = z.union([
  z.string(),
  z.number().transform((n) => String(n)),
])

/**
 * An employee from `PUT /api/v1/inventories/employees` (`employeeWithoutCode`, protocol §6.9).
 *
 * @example
 * ```ts
 * EmployeeSchema.parse({ uuid: 'e1', name: 'Иван', stores: [], role: 'CASHIER', phone: 79876543210 })
 * ```
 */
export const EmployeeSchema = z.preprocess(
  employeeFromV2, // v2 snake_case accepted (cloud.ts)
  z.looseObject({
    uuid: EvotorIdSchema,
    name: z.string(),
    lastName: z.string().nullish(),
    patronymicName: z.string().nullish(),
    phone: PhoneSchema.nullish(),
    stores: z.array(z.string()),
    role: z.string(),
    code: z.string().nullish(),
  }),
)

/**
 * A parsed employee; `phone` is a string.
 *
 * @example
 * ```ts
 * const isAdmin = (e: Employee) => e.role === 'ADMIN'
 * ```
 */
export type Employee = z.output<typeof EmployeeSchema>

/**
 * Body of `PUT /api/v1/inventories/employees`: an array of {@link Employee}.
 *
 * @example
 * ```ts
 * const employees = EmployeesSchema.parse(body)
 * ```
 */
export const EmployeesSchema = z.array(EmployeeSchema)

/**
 * Documented product types (protocol §9.1); other strings are accepted on input.
 *
 * @example
 * ```ts
 * PRODUCT_TYPES.includes('SERVICE') // true
 * ```
 */
export const PRODUCT_TYPES = ['NORMAL', 'ALCOHOL_MARKED', 'ALCOHOL_NOT_MARKED', 'SERVICE'] as const

/**
 * One of {@link PRODUCT_TYPES}.
 *
 * @example
 * ```ts
 * const t: ProductType = 'NORMAL'
 * ```
 */
export type ProductType = (typeof PRODUCT_TYPES)[number]

const codes = z.array(z.string()).nullish()

/**
 * A product from `POST /api/v1/inventories/stores/{storeUuid}/products` (protocol §9.1), parsed
 * leniently: only `uuid`, `name` and `group` are required (the per-type required sets are not
 * enforced, §11 A32); prices and quantities are {@link Decimal}s; the legacy lower-case
 * `barcodes`/`alcocodes` are copied into `barCodes`/`alcoCodes` when those are absent (§11 A34).
 *
 * @example
 * ```ts
 * ProductSchema.parse({ uuid: 'p1', name: 'Сидр', group: false, barcodes: ['2000000000060'] }).barCodes
 * // ['2000000000060']
 * ```
 */
const ProductObjectSchema = z.looseObject({
  uuid: EvotorIdSchema,
  name: z.string(),
  group: z.boolean(),
  type: z.string().nullish(),
  parentUuid: z.string().nullish(),
  hasVariants: z.boolean().nullish(),
  code: z.string().nullish(),
  quantity: DecimalSchema.nullish(),
  measureName: z.string().nullish(),
  tax: z.string().nullish(),
  price: DecimalSchema.nullish(),
  allowToSell: z.boolean().nullish(),
  costPrice: DecimalSchema.nullish(),
  description: z.string().nullish(),
  articleNumber: z.string().nullish(),
  barCodes: codes,
  alcoCodes: codes,
  barcodes: codes,
  alcocodes: codes,
  alcoholByVolume: DecimalSchema.nullish(),
  alcoholProductKindCode: IntegerLikeSchema.nullish(),
  tareVolume: DecimalSchema.nullish(),
  attributes: z.record(z.string(), z.string()).nullish(),
})

/** The output objects are zod's own copies, so normalising them in place is safe. */
function normaliseProductAliases<P extends z.output<typeof ProductObjectSchema>>(product: P): P {
  if (product.barCodes == null && product.barcodes != null) product.barCodes = product.barcodes
  if (product.alcoCodes == null && product.alcocodes != null) product.alcoCodes = product.alcocodes
  return product
}

/**
 * A product from `POST /api/v1/inventories/stores/{storeUuid}/products` (protocol §9.1), parsed
 * leniently: only `uuid`, `name` and `group` are required (the per-type required sets are not
 * enforced, §11 A32); prices and quantities are {@link Decimal}s; the legacy lower-case
 * `barcodes`/`alcocodes` are copied into `barCodes`/`alcoCodes` when those are absent (§11 A34).
 *
 * @example
 * ```ts
 * ProductSchema.parse({ uuid: 'p1', name: 'Сидр', group: false, barcodes: ['2000000000060'] }).barCodes
 * // ['2000000000060']
 * ```
 */
export const ProductSchema = z.preprocess(
  productFromV2,
  ProductObjectSchema.transform(normaliseProductAliases),
)

/**
 * A parsed product.
 *
 * @example
 * ```ts
 * const isGroup = (p: Product) => p.group
 * ```
 */
export type Product = z.output<typeof ProductSchema>

/**
 * Body of the products webhook: an array of {@link Product}.
 *
 * @example
 * ```ts
 * const products = ProductsSchema.parse(body)
 * ```
 */
export const ProductsSchema = z
  // v2 snake_case products accepted (cloud.ts); mapped once per array, not per item schema.
  .preprocess((body) => (Array.isArray(body) ? body.map(productFromV2) : body), z.array(ProductObjectSchema))
  // One transform for the whole array rather than one per item: bodies hold thousands (performance).
  .transform((products) => {
    for (const product of products) normaliseProductAliases(product)
    return products
  })

/**
 * Query of `GET /api/v1/commodities` (protocol §6.4): `scanCode` (barcode, required) and `alcCode`
 * (EGAIS code, optional). A repeated query key yields its first value.
 *
 * @example
 * ```ts
 * CommoditiesQuerySchema.parse({ scanCode: '2000000000060' })
 * ```
 */
export const CommoditiesQuerySchema = z.looseObject({
  scanCode: z.union([
    z.string().min(1),
    z
      .array(z.string().min(1))
      .min(1)
      .transform((values) => values[0]!),
  ]),
  alcCode: z.union([z.string(), z.array(z.string()).transform((values) => values[0] ?? null)]).nullish(),
})

/**
 * What a `commodities` handler receives.
 *
 * @example
 * ```ts
 * const lookup = (q: CommoditiesQuery) => catalogue.byBarcode(q.scanCode)
 * ```
 */
export type CommoditiesQuery = z.output<typeof CommoditiesQuerySchema>

/**
 * 200 body of `GET /api/v1/commodities` (`commodity`, protocol §6.4), strict: `name` 1–100 chars,
 * `measure` (any unit string, §11 A31), optional `alcCodes` (19 digits each), `scanCodes`,
 * `alcoholByVolume` 0–99.999, `alcoholProductKindCode` 0–999, `tareVolume` 0–999.999.
 *
 * @example
 * ```ts
 * CommoditySchema.parse({ name: 'Сидр', measure: 'шт', scanCodes: ['2000000000060'] })
 * ```
 */
export const CommoditySchema = z.strictObject({
  name: z.string().min(1).max(100),
  alcCodes: z.array(z.string().regex(/^[0-9]{19}$/)).nullish(),
  scanCodes: z.array(z.string().min(1)).nullish(),
  alcoholByVolume: z.number().min(0).max(99.999).nullish(),
  alcoholProductKindCode: z.int().min(0).max(999).nullish(),
  tareVolume: z.number().min(0).max(999.999).nullish(),
  measure: z.string(),
})

/**
 * What a `commodities` handler must return.
 *
 * @example
 * ```ts
 * const answer: Commodity = { name: 'Сидр', measure: 'шт', scanCodes: [query.scanCode] }
 * ```
 */
export type Commodity = z.input<typeof CommoditySchema>
