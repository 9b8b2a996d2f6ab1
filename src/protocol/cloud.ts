/**
 * The Evotor cloud's REST API v2 and publisher API, as the partner's client reads and writes them
 * (evotor-cloud-api.md §1–§2). Fields are snake_case. Responses are parsed leniently (unknown
 * fields kept, only ids required); what the partner sends is compacted by {@link compactForWire}
 * (Evotor asks that empty optional fields be omitted, §1 "empty fields").
 *
 * The same entities reach the partner as inventory webhooks: {@link storeFromV2} and friends map
 * the v2 snake_case shape onto the webhook types of `inventory.ts`.
 */
import { z } from 'zod'
import { DecimalSchema, EvotorIdSchema, NumberOrStringSchema } from './ids.js'

const str = z.string().nullish()

/**
 * A store from `GET /stores` (REST v2).
 *
 * @example
 * ```ts
 * CloudStoreSchema.parse({ id: '20170228-F4F1-401B-80FA-9ECCA8451FFB', name: 'Мой магазин' })
 * ```
 */
export const CloudStoreSchema = z.looseObject({
  id: EvotorIdSchema,
  name: str,
  address: str,
  code: str,
  user_id: str,
  created_at: str,
  updated_at: str,
})

/**
 * A store as the REST API returns it.
 *
 * @example
 * ```ts
 * const label = (s: CloudStore) => s.name ?? s.id
 * ```
 */
export type CloudStore = z.output<typeof CloudStoreSchema>

/**
 * Documented terminal models (evotor-cloud-api.md §1); other strings are accepted.
 *
 * @example
 * ```ts
 * CLOUD_DEVICE_MODELS.includes('7_2') // true
 * ```
 */
export const CLOUD_DEVICE_MODELS = ['10', '7_2', '7_2_ATOL', '7_3', '5', '5_I', 'POWER', 'UNKNOWN'] as const

/**
 * A terminal from `GET /devices` (REST v2); `timezone_offset` is in milliseconds.
 *
 * @example
 * ```ts
 * CloudDeviceSchema.parse({ id: '20170222-D58C-40E0-8051-B53ADFF38860', store_id: 's1' })
 * ```
 */
export const CloudDeviceSchema = z.looseObject({
  id: EvotorIdSchema,
  name: str,
  store_id: str,
  user_id: str,
  timezone_offset: z.number().nullish(),
  imei: str,
  firmware_version: str,
  serial_number: str,
  device_model: str,
  location: z.looseObject({ lat: z.number().nullish(), lng: z.number().nullish() }).nullish(),
  created_at: str,
  updated_at: str,
})

/**
 * A terminal as the REST API returns it.
 *
 * @example
 * ```ts
 * const inStore = (d: CloudDevice, storeId: string) => d.store_id === storeId
 * ```
 */
export type CloudDevice = z.output<typeof CloudDeviceSchema>

/**
 * An employee from `GET /employees` (REST v2).
 *
 * @example
 * ```ts
 * CloudEmployeeSchema.parse({ id: 'e1', name: 'Иван', stores: ['s1'], role: 'CASHIER' })
 * ```
 */
export const CloudEmployeeSchema = z.looseObject({
  id: EvotorIdSchema,
  name: str,
  last_name: str,
  patronymic_name: str,
  phone: NumberOrStringSchema.nullish(),
  stores: z.array(z.string()).nullish(),
  role: str,
  role_id: str,
  user_id: str,
  created_at: str,
  updated_at: str,
})

/**
 * An employee as the REST API returns it.
 *
 * @example
 * ```ts
 * const fullName = (e: CloudEmployee) => [e.last_name, e.name].filter(Boolean).join(' ')
 * ```
 */
export type CloudEmployee = z.output<typeof CloudEmployeeSchema>

/**
 * A terminal document from `GET /stores/{s}/documents` (REST v2). `body` holds the type's
 * contents (a SELL's `positions`, `payments`, `doc_discounts` …), kept as sent.
 *
 * @example
 * ```ts
 * CloudDocumentSchema.parse({ id: 'd1', type: 'SELL', store_id: 's1', body: { positions: [] } })
 * ```
 */
export const CloudDocumentSchema = z.looseObject({
  id: EvotorIdSchema,
  type: z.string(),
  store_id: str,
  device_id: str,
  user_id: str,
  number: NumberOrStringSchema.nullish(),
  session_number: NumberOrStringSchema.nullish(),
  close_date: str,
  created_at: str,
  body: z.record(z.string(), z.unknown()).nullish(),
})

/**
 * A terminal document as the REST API returns it.
 *
 * @example
 * ```ts
 * const isSale = (d: CloudDocument) => d.type === 'SELL'
 * ```
 */
export type CloudDocument = z.output<typeof CloudDocumentSchema>

/**
 * A product or product group from `GET /stores/{s}/products` (REST v2). Decimals stay as sent
 * (number or string).
 *
 * @example
 * ```ts
 * CloudProductSchema.parse({ id: 'p1', name: 'Сидр', price: '120.50', type: 'NORMAL' })
 * ```
 */
export const CloudProductSchema = z.looseObject({
  id: EvotorIdSchema,
  name: str,
  type: str,
  parent_id: str,
  code: str,
  price: DecimalSchema.nullish(),
  cost_price: DecimalSchema.nullish(),
  quantity: DecimalSchema.nullish(),
  measure_name: str,
  tax: str,
  allow_to_sell: z.boolean().nullish(),
  description: str,
  article_number: str,
  barcodes: z.array(z.string()).nullish(),
  alcohol_codes: z.array(z.string()).nullish(),
  store_id: str,
  user_id: str,
  created_at: str,
  updated_at: str,
})

/**
 * A product as the REST API returns it.
 *
 * @example
 * ```ts
 * const sellable = (p: CloudProduct) => p.allow_to_sell !== false
 * ```
 */
export type CloudProduct = z.output<typeof CloudProductSchema>

/**
 * A product group (`/stores/{s}/product-groups`): the same shape as a product.
 *
 * @example
 * ```ts
 * CloudProductGroupSchema.parse({ id: 'g1', name: 'Напитки' })
 * ```
 */
export const CloudProductGroupSchema = CloudProductSchema

/**
 * A product group as the REST API returns it.
 *
 * @example
 * ```ts
 * const top = (g: CloudProductGroup) => g.parent_id == null
 * ```
 */
export type CloudProductGroup = CloudProduct

/**
 * What the partner sends to create or replace a product or group. `id` is required for bulk
 * `PUT` (evotor-cloud-api.md §1 "Bulk tasks"); `null`/`undefined` fields are omitted on the wire.
 *
 * @example
 * ```ts
 * const item: CloudProductInput = { id: 'p1', name: 'Сидр', type: 'NORMAL', price: '120.50' }
 * ```
 */
export type CloudProductInput = {
  id?: string | undefined
  name: string
  type?: string | undefined
  parent_id?: string | null | undefined
  price?: number | string | null | undefined
  cost_price?: number | string | null | undefined
  quantity?: number | string | null | undefined
  measure_name?: string | null | undefined
  tax?: string | null | undefined
  allow_to_sell?: boolean | null | undefined
  description?: string | null | undefined
  article_number?: string | null | undefined
  barcodes?: string[] | null | undefined
  alcohol_codes?: string[] | null | undefined
  [field: string]: unknown
}

/**
 * Final statuses of a bulk task (evotor-cloud-api.md §1 "Bulk tasks").
 *
 * @example
 * ```ts
 * BULK_FINAL_STATUSES.includes('COMPLETED') // true
 * ```
 */
export const BULK_FINAL_STATUSES = ['COMPLETED', 'FAILED', 'DECLINED'] as const

/**
 * A bulk task: `{id, status}` when accepted, with per-item `details` once final.
 *
 * @example
 * ```ts
 * BulkTaskSchema.parse({ id: 'b1', status: 'ACCEPTED' })
 * ```
 */
export const BulkTaskSchema = z.looseObject({
  id: EvotorIdSchema,
  status: z.string(),
  type: str,
  modified_at: str,
  details: z
    .array(
      z.looseObject({
        id: str,
        status: str,
        code: z.union([z.string(), z.number()]).nullish(),
        message: str,
      }),
    )
    .nullish(),
})

/**
 * A bulk task.
 *
 * @example
 * ```ts
 * const failed = (t: BulkTask) => (t.details ?? []).filter((d) => d.status === 'FAILED')
 * ```
 */
export type BulkTask = z.output<typeof BulkTaskSchema>

/**
 * An event of the publisher events feed (`GET /api/apps/{app}/events`, evotor-cloud-api.md §2).
 *
 * @example
 * ```ts
 * PublisherEventSchema.parse({ id: 'e1', timestamp: 1, type: 'Store', action: 'created', payload: {} })
 * ```
 */
export const PublisherEventSchema = z.looseObject({
  id: EvotorIdSchema,
  timestamp: NumberOrStringSchema,
  type: z.string(),
  action: z.string(),
  source: str,
  payload: z.unknown(),
})

/**
 * A publisher event; `payload` is snake_case and typed by `type`.
 *
 * @example
 * ```ts
 * const key = (e: PublisherEvent) => e.id // idempotency key
 * ```
 */
export type PublisherEvent = z.output<typeof PublisherEventSchema>

/**
 * A push-notification task (`/api/apps/{app}/push-notifications`).
 *
 * @example
 * ```ts
 * PushNotificationSchema.parse({ id: 'n1', status: 'ACCEPTED' })
 * ```
 */
export const PushNotificationSchema = z.looseObject({
  id: EvotorIdSchema,
  status: z.string(),
  devices: z.array(z.looseObject({ id: str, device_id: str, status: str })).nullish(),
})

/**
 * A push-notification task and its per-device statuses.
 *
 * @example
 * ```ts
 * const delivered = (n: PushNotification) => n.devices?.every((d) => d.status === 'DELIVERED')
 * ```
 */
export type PushNotification = z.output<typeof PushNotificationSchema>

/**
 * A page of any list: `{items, paging: {next_cursor}}`; an empty `paging` is the last page.
 *
 * @example
 * ```ts
 * CloudPageSchema.parse({ items: [], paging: {} })
 * ```
 */
export const CloudPageSchema = z.looseObject({
  items: z.array(z.unknown()),
  paging: z.looseObject({ next_cursor: z.string().nullish() }).nullish(),
})

/**
 * The error body of 400/409/422: `{code, message, violations: [{reason, subject}]}`.
 *
 * @example
 * ```ts
 * CloudErrorBodySchema.parse({ code: 'unknown_device', message: 'no such device' })
 * ```
 */
export const CloudErrorBodySchema = z.looseObject({
  code: z.union([z.string(), z.number()]).nullish(),
  message: z.string().nullish(),
  violations: z
    .array(z.looseObject({ reason: z.string().nullish(), subject: z.string().nullish() }))
    .nullish(),
})

/**
 * A copy of `value` without `null`/`undefined` object fields, at any depth (Evotor asks that empty
 * optional fields be omitted). Array items are kept in place; dangerous keys are dropped.
 *
 * @param value - what to send.
 * @returns a plain copy fit for `JSON.stringify`.
 * @example
 * ```ts
 * compactForWire({ id: 'p1', price: null, barcodes: ['1'] }) // { id: 'p1', barcodes: ['1'] }
 * ```
 */
export function compactForWire<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => compactForWire(item)) as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) {
    if (field === null || field === undefined || key === '__proto__') continue
    out[key] = compactForWire(field)
  }
  return out as T
}

type Loose = Record<string, unknown>

const isObject = (value: unknown): value is Loose =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** Copies `from[v2]` to `to[webhook]` when the webhook field is absent. */
function alias(from: Loose, to: Loose, pairs: readonly (readonly [string, string])[]): void {
  for (const [v2, webhook] of pairs) {
    if (to[webhook] === undefined && from[v2] !== undefined) to[webhook] = from[v2]
  }
}

/** A v2 body is recognised by `id` without `uuid`; anything else passes through unchanged. */
function fromV2(value: unknown, pairs: readonly (readonly [string, string])[]): unknown {
  if (!isObject(value) || value.uuid !== undefined || value.id === undefined) return value
  const out: Loose = { ...value, uuid: value.id }
  alias(value, out, pairs)
  return out
}

const STORE_PAIRS = [] as const
const DEVICE_PAIRS = [
  ['store_id', 'storeUuid'],
  ['timezone_offset', 'timezoneOffset'],
] as const
const EMPLOYEE_PAIRS = [
  ['last_name', 'lastName'],
  ['patronymic_name', 'patronymicName'],
] as const
const PRODUCT_PAIRS = [
  ['parent_id', 'parentUuid'],
  ['measure_name', 'measureName'],
  ['allow_to_sell', 'allowToSell'],
  ['cost_price', 'costPrice'],
  ['article_number', 'articleNumber'],
  ['barcodes', 'barCodes'],
  ['alcohol_codes', 'alcoCodes'],
  ['has_variants', 'hasVariants'],
  ['alcohol_by_volume', 'alcoholByVolume'],
  ['alcohol_product_kind_code', 'alcoholProductKindCode'],
  ['tare_volume', 'tareVolume'],
] as const

/**
 * Maps a v2 snake_case store (`{id, name, address}`) onto the webhook shape (`{uuid, …}`);
 * a webhook-shaped store is returned unchanged.
 *
 * @param value - a store in either shape.
 * @returns the webhook shape, for `StoreSchema`.
 * @example
 * ```ts
 * storeFromV2({ id: 's1', name: 'Shop' }) // { id: 's1', uuid: 's1', name: 'Shop' }
 * ```
 */
export function storeFromV2(value: unknown): unknown {
  return fromV2(value, STORE_PAIRS)
}

/**
 * Maps a v2 snake_case terminal onto the webhook shape (`store_id` -> `storeUuid`,
 * `timezone_offset` -> `timezoneOffset`).
 *
 * @param value - a terminal in either shape.
 * @returns the webhook shape, for `DeviceSchema`.
 * @example
 * ```ts
 * deviceFromV2({ id: 'd1', store_id: 's1' }) // { …, uuid: 'd1', storeUuid: 's1' }
 * ```
 */
export function deviceFromV2(value: unknown): unknown {
  return fromV2(value, DEVICE_PAIRS)
}

/**
 * Maps a v2 snake_case employee onto the webhook shape (`last_name` -> `lastName` …).
 *
 * @param value - an employee in either shape.
 * @returns the webhook shape, for `EmployeeSchema`.
 * @example
 * ```ts
 * employeeFromV2({ id: 'e1', name: 'Иван', last_name: 'Петров', stores: [], role: 'ADMIN' })
 * ```
 */
export function employeeFromV2(value: unknown): unknown {
  const out = fromV2(value, EMPLOYEE_PAIRS)
  // A v2 employee may omit `stores`; the webhook type requires the array.
  if (out !== value && isObject(out) && out.stores == null) out.stores = []
  return out
}

/**
 * Maps a v2 snake_case product onto the webhook shape (`parent_id` -> `parentUuid`,
 * `barcodes` -> `barCodes` …); a v2 product has no `group` flag, so `type: 'GROUP'` or an absent
 * type on a group endpoint is the caller's call: here `group` is `type === 'GROUP'`.
 *
 * @param value - a product in either shape.
 * @returns the webhook shape, for `ProductSchema`.
 * @example
 * ```ts
 * productFromV2({ id: 'p1', name: 'Сидр', type: 'NORMAL', parent_id: 'g1' })
 * ```
 */
export function productFromV2(value: unknown): unknown {
  const out = fromV2(value, PRODUCT_PAIRS)
  if (out !== value && isObject(out) && out.group === undefined) out.group = out.type === 'GROUP'
  return out
}
