import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import {
  DEVICE_TEMPLATE,
  DOCUMENT_TEMPLATE,
  EMPLOYEE_TEMPLATE,
  INSTALLATION_EVENT_TEMPLATE,
  PRODUCT_TEMPLATE,
  RECEIPT_TEMPLATE,
  STORE_TEMPLATE,
  SUBSCRIPTION_EVENT_TEMPLATE,
} from './templates.js'

/**
 * A fresh Evotor user id matching `^[0-9]{2}-[0-9]{15}$` (protocol §3.5), random so that runs
 * against one database never collide.
 *
 * @example
 * ```ts
 * randomUserId() // '01-482913004718265'
 * ```
 */
export function randomUserId(): string {
  let digits = ''
  for (let i = 0; i < 15; i++) digits += String(randomInt(10))
  return `${String(randomInt(1, 100)).padStart(2, '0')}-${digits}`
}

/**
 * A fresh lower-case uuid v4, the form of product, document, subscription and event ids.
 *
 * @example
 * ```ts
 * randomUuid() // '3b241101-e2bb-4255-8caf-4136c566a962'
 * ```
 */
export function randomUuid(): string {
  return randomUUID()
}

/**
 * A fresh store/device/employee id the way the Evotor cloud writes them: date-prefixed and
 * upper-case (`20170228-F4F1-401B-80FA-9ECCA8451FFB`), so a service that re-cases ids shows it.
 *
 * @example
 * ```ts
 * randomEvotorUuid() // '20250114-5E0A-4C1B-9D2E-0A1B2C3D4E5F'
 * ```
 */
export function randomEvotorUuid(): string {
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '')
  return `${date}${randomUUID().slice(8)}`.toUpperCase()
}

/**
 * A random token of `[A-Za-z0-9_-]` (base64url of `bytes` random bytes), e.g. an Evotor cloud
 * token for `user/token` or a deliberately unknown user token.
 *
 * @example
 * ```ts
 * randomToken() // 43 characters
 * ```
 */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/**
 * A fresh in-store EAN-13 barcode (prefix `20`, valid check digit).
 *
 * @example
 * ```ts
 * randomBarcode() // '2012345678903'
 * ```
 */
export function randomBarcode(): string {
  let code = '20'
  for (let i = 0; i < 10; i++) code += String(randomInt(10))
  let sum = 0
  for (let i = 0; i < 12; i++) sum += Number(code[i]) * (i % 2 === 0 ? 1 : 3)
  return code + String((10 - (sum % 10)) % 10)
}

/**
 * Formats a date the way Evotor does: milliseconds and an offset without a colon
 * (`2017-04-20T18:26:37.753+0000`, protocol §5.2).
 *
 * @example
 * ```ts
 * formatEvotorDate(new Date(0)) // '1970-01-01T00:00:00.000+0000'
 * ```
 */
export function formatEvotorDate(date: Date = new Date()): string {
  return date.toISOString().replace('Z', '+0000')
}

/**
 * The `Authorization` value for a credential: `Bearer <token>` or `Basic base64(login:password)`
 * (protocol §4.4).
 *
 * @example
 * ```ts
 * buildAuthorization({ bearer: 'app-token' }) // 'Bearer app-token'
 * buildAuthorization({ basic: { username: 'evotor', password: 's3cret' } }) // 'Basic ZXZvdG9yOnMzY3JldA=='
 * ```
 */
export function buildAuthorization(
  credential: { bearer: string } | { basic: { username: string; password: string } },
): string {
  if ('bearer' in credential) return `Bearer ${credential.bearer}`
  const { username, password } = credential.basic
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

/**
 * Body of `POST /api/v1/user/create` (protocol §6.1): the user id plus any custom registration
 * fields of the portal.
 *
 * @example
 * ```ts
 * buildUserCreate({ userId: randomUserId(), fields: { email: 'shop@example.com' } })
 * ```
 */
export function buildUserCreate(options: {
  userId: string
  fields?: Record<string, string>
}): Record<string, string> & { userId: string } {
  return { customField: 'Дополнительные данные о пользователе', ...options.fields, userId: options.userId }
}

/**
 * Body of `POST /api/v1/user/verify` (protocol §6.2): the user id and the partner login.
 *
 * @example
 * ```ts
 * buildUserVerify({ userId: randomUserId(), username: 'И.Иванов', password: 'superpassword' })
 * ```
 */
export function buildUserVerify(options: {
  userId: string
  username: string
  password: string
  fields?: Record<string, string>
}): Record<string, string> & { userId: string } {
  return { ...options.fields, userId: options.userId, username: options.username, password: options.password }
}

/**
 * Body of `POST /api/v1/user/token` (protocol §6.3): the Evotor cloud token of the user (random
 * unless given).
 *
 * @example
 * ```ts
 * buildUserToken({ userId: '01-000000000000001' }) // { userId, token: '<uuid>' }
 * ```
 */
export function buildUserToken(options: { userId: string; token?: string }): {
  userId: string
  token: string
} {
  return { userId: options.userId, token: options.token ?? randomUUID() }
}

/**
 * Subscription event types (protocol §6.5).
 *
 * @example
 * ```ts
 * const type: SubscriptionEventType = 'SubscriptionCreated'
 * ```
 */
export type SubscriptionEventType =
  | 'SubscriptionCreated'
  | 'AddonsUpdated'
  | 'SubscriptionActivated'
  | 'SubscriptionRenewed'
  | 'SubscriptionTermsChanged'
  | 'SubscriptionTerminationRequested'
  | 'SubscriptionTerminated'

/**
 * A subscription event body as the cloud sends it.
 *
 * @example
 * ```ts
 * const event: SubscriptionEventPayload = buildSubscriptionEvent('SubscriptionCreated', { subscriptionId, sequenceNumber: 1, userId })
 * ```
 */
export interface SubscriptionEventPayload {
  subscriptionId: string
  productId: string
  userId: string
  timestamp: string
  sequenceNumber: number
  type: SubscriptionEventType
  [field: string]: unknown
}

/**
 * Options of {@link buildSubscriptionEvent}.
 *
 * @example
 * ```ts
 * const options: SubscriptionEventOptions = { subscriptionId: randomUuid(), sequenceNumber: 1, userId }
 * ```
 */
export interface SubscriptionEventOptions {
  subscriptionId: string
  sequenceNumber: number
  userId: string
  /** The app id; default: the fixture's. */
  productId?: string
  /** Default: now. */
  timestamp?: Date
}

/**
 * Body of `POST /api/v1/subscription/event` (protocol §6.5) with the type-specific fields a
 * real event carries.
 *
 * @example
 * ```ts
 * buildSubscriptionEvent('SubscriptionCreated', { subscriptionId: randomUuid(), sequenceNumber: 1, userId })
 * ```
 */
export function buildSubscriptionEvent(
  type: SubscriptionEventType,
  options: SubscriptionEventOptions,
): SubscriptionEventPayload {
  const now = options.timestamp ?? new Date()
  const nextBilling = formatEvotorDate(new Date(now.getTime() + 30 * 24 * 3600_000))
  const charged = { amount: 2416.67, currency: 'RUB' }
  const extra: Record<SubscriptionEventType, Record<string, unknown>> = {
    SubscriptionCreated: { planId: 'example', trialPeriodDuration: 'P14DT', deviceNumber: 1 },
    AddonsUpdated: { addons: [{ id: 'extra-reports', quantity: 1 }] },
    SubscriptionActivated: { nextBillingDate: nextBilling, chargedSum: charged },
    SubscriptionRenewed: { nextBillingDate: nextBilling, chargedSum: charged },
    SubscriptionTermsChanged: { deviceNumber: 2, nextBillingDate: nextBilling, chargedSum: charged },
    SubscriptionTerminationRequested: {},
    SubscriptionTerminated: {},
  }
  return {
    ...structuredClone(SUBSCRIPTION_EVENT_TEMPLATE),
    subscriptionId: options.subscriptionId,
    productId: options.productId ?? SUBSCRIPTION_EVENT_TEMPLATE.productId,
    userId: options.userId,
    timestamp: formatEvotorDate(now),
    sequenceNumber: options.sequenceNumber,
    type,
    ...extra[type],
  }
}

/**
 * An installation event body (protocol §6.6).
 *
 * @example
 * ```ts
 * const event: InstallationEventPayload = buildInstallationEvent('ApplicationInstalled', { userId })
 * ```
 */
export interface InstallationEventPayload {
  id: string
  timestamp: number
  version: number
  type: 'ApplicationInstalled' | 'ApplicationUninstalled'
  data: { productId: string; userId: string }
}

/**
 * Body of `POST /api/v2/installation/event` (protocol §6.6) with a fresh event id.
 *
 * @example
 * ```ts
 * buildInstallationEvent('ApplicationUninstalled', { userId: '01-000000000000001' })
 * ```
 */
export function buildInstallationEvent(
  type: 'ApplicationInstalled' | 'ApplicationUninstalled',
  options: { userId: string; id?: string; productId?: string; timestamp?: number },
): InstallationEventPayload {
  return {
    id: options.id ?? randomUUID(),
    timestamp: options.timestamp ?? Date.now(),
    version: INSTALLATION_EVENT_TEMPLATE.version,
    type,
    data: {
      productId: options.productId ?? INSTALLATION_EVENT_TEMPLATE.data.productId,
      userId: options.userId,
    },
  }
}

/**
 * One store as `PUT /api/v1/inventories/stores` sends it.
 *
 * @example
 * ```ts
 * const stores: StorePayload[] = buildStores()
 * ```
 */
export type StorePayload = { uuid: string; name: string; address?: string | null }

/**
 * Body of `PUT /api/v1/inventories/stores` (protocol §6.7): one store, fresh id unless given.
 *
 * @example
 * ```ts
 * buildStores({ storeUuid: randomEvotorUuid() })
 * ```
 */
export function buildStores(options: { storeUuid?: string; name?: string } = {}): StorePayload[] {
  return [
    {
      ...structuredClone(STORE_TEMPLATE),
      uuid: options.storeUuid ?? randomEvotorUuid(),
      ...(options.name === undefined ? {} : { name: options.name }),
    },
  ]
}

/**
 * One terminal as `PUT /api/v1/inventories/devices` sends it.
 *
 * @example
 * ```ts
 * const devices: DevicePayload[] = buildDevices({ storeUuid })
 * ```
 */
export type DevicePayload = { uuid: string; name: string; storeUuid: string; timezoneOffset: number }

/**
 * Body of `PUT /api/v1/inventories/devices` (protocol §6.8): one terminal of the store.
 *
 * @example
 * ```ts
 * buildDevices({ storeUuid, deviceUuid: randomEvotorUuid() })
 * ```
 */
export function buildDevices(options: { storeUuid: string; deviceUuid?: string }): DevicePayload[] {
  return [
    {
      ...structuredClone(DEVICE_TEMPLATE),
      uuid: options.deviceUuid ?? randomEvotorUuid(),
      storeUuid: options.storeUuid,
    },
  ]
}

/**
 * One employee as `PUT /api/v1/inventories/employees` sends it.
 *
 * @example
 * ```ts
 * const employees: EmployeePayload[] = buildEmployees({ storeUuid })
 * ```
 */
export type EmployeePayload = {
  uuid: string
  name: string
  lastName?: string | null
  patronymicName?: string | null
  phone?: number | null
  stores: string[]
  role: string
}

/**
 * Body of `PUT /api/v1/inventories/employees` (protocol §6.9): one cashier of the store.
 *
 * @example
 * ```ts
 * buildEmployees({ storeUuid, employeeUuid: randomEvotorUuid() })
 * ```
 */
export function buildEmployees(options: { storeUuid: string; employeeUuid?: string }): EmployeePayload[] {
  return [
    {
      ...structuredClone(EMPLOYEE_TEMPLATE),
      uuid: options.employeeUuid ?? randomEvotorUuid(),
      stores: [options.storeUuid],
    },
  ]
}

/**
 * A product or group as `POST …/stores/{storeUuid}/products` sends it (protocol §9.1).
 *
 * @example
 * ```ts
 * const [group, product]: ProductPayload[] = buildProducts()
 * ```
 */
export type ProductPayload = {
  uuid: string
  name: string
  group: boolean
  parentUuid?: string | null
  type?: string
  [field: string]: unknown
}

/**
 * Body of `POST /api/v1/inventories/stores/{storeUuid}/products` (protocol §6.10): a group, a
 * `NORMAL` product with `barcode` (fresh unless given) and an `ALCOHOL_NOT_MARKED` product from
 * the spec example, all with fresh ids.
 *
 * @example
 * ```ts
 * const products = buildProducts({ barcode: '2000000000060' })
 * products[1].barCodes // ['2000000000060']
 * ```
 */
export function buildProducts(options: { barcode?: string } = {}): ProductPayload[] {
  const groupUuid = randomUUID()
  const group: ProductPayload = { uuid: groupUuid, name: 'Напитки', group: true, parentUuid: null, code: '1' }
  const normal: ProductPayload = {
    uuid: randomUUID(),
    code: '2',
    name: 'Квас хлебный 0,5 л',
    group: false,
    type: 'NORMAL',
    parentUuid: groupUuid,
    barCodes: [options.barcode ?? randomBarcode()],
    alcoCodes: [],
    price: 89.9,
    costPrice: 54.1,
    quantity: 24,
    measureName: 'шт',
    tax: 'VAT_18',
    allowToSell: true,
    description: 'Квас живого брожения',
    articleNumber: 'kvas-05',
  }
  const alcohol: ProductPayload = {
    ...structuredClone(PRODUCT_TEMPLATE),
    uuid: randomUUID(),
    parentUuid: groupUuid,
    barCodes: [randomBarcode()],
  }
  return [group, normal, alcohol]
}

/**
 * The product a document or receipt sells: defaults to a fresh one.
 *
 * @example
 * ```ts
 * const sold: SoldProduct = { uuid: randomUuid(), name: 'Квас', price: 89.9 }
 * ```
 */
export interface SoldProduct {
  uuid: string
  name: string
  price: number
}

const defaultSold = (): SoldProduct => ({ uuid: randomUUID(), name: 'Квас хлебный 0,5 л', price: 89.9 })

/**
 * A v1 terminal document (protocol §9.4).
 *
 * @example
 * ```ts
 * const [sell]: DocumentPayload[] = buildDocuments({ storeUuid, deviceUuid })
 * ```
 */
export type DocumentPayload = {
  uuid: string
  type: string
  transactions: unknown[]
  [field: string]: unknown
}

/**
 * Body of `PUT /api/v1/inventories/stores/{storeUuid}/documents` (protocol §6.11): a SELL
 * document of the pos-docs sample, re-addressed to this store, terminal, employee and product.
 *
 * @example
 * ```ts
 * buildDocuments({ storeUuid, deviceUuid, employeeUuid, product: { uuid, name: 'Квас', price: 89.9 } })
 * ```
 */
export function buildDocuments(options: {
  storeUuid: string
  deviceUuid: string
  employeeUuid?: string
  product?: SoldProduct
}): DocumentPayload[] {
  const employee = options.employeeUuid ?? randomEvotorUuid()
  const product = options.product ?? defaultSold()
  const now = formatEvotorDate()
  const document = structuredClone(DOCUMENT_TEMPLATE) as unknown as DocumentPayload
  const transactions = document.transactions.map((raw) => {
    const transaction = { ...(raw as Record<string, unknown>) }
    if ('userUuid' in transaction) transaction.userUuid = employee
    if ('creationDate' in transaction) transaction.creationDate = now
    if ('commodityUuid' in transaction) transaction.commodityUuid = product.uuid
    if ('commodityName' in transaction) transaction.commodityName = product.name
    return transaction
  })
  return [
    {
      ...document,
      uuid: randomUUID(),
      storeUuid: options.storeUuid,
      deviceUuid: options.deviceUuid,
      sessionUUID: randomUUID(),
      openUserUuid: employee,
      closeUserUuid: employee,
      openDate: now,
      closeDate: now,
      transactions,
    },
  ]
}

/**
 * A receipt event (protocol §9.6).
 *
 * @example
 * ```ts
 * const receipt: ReceiptPayload = buildReceipt({ userId, storeUuid, deviceUuid })
 * ```
 */
export type ReceiptPayload = {
  id: string
  timestamp: number | string
  userId: string
  type: string
  version: number
  data: { id: string; deviceId: string; storeId: string; items: unknown[]; [field: string]: unknown }
}

/**
 * Body of `POST /api/v2/receipts` (protocol §6.12): one cash sale of one product with fresh
 * event and receipt ids.
 *
 * @example
 * ```ts
 * buildReceipt({ userId, storeUuid, deviceUuid, employeeUuid })
 * ```
 */
export function buildReceipt(options: {
  userId: string
  storeUuid: string
  deviceUuid: string
  employeeUuid?: string
  product?: SoldProduct
}): ReceiptPayload {
  const template = structuredClone(RECEIPT_TEMPLATE)
  const product = options.product ?? defaultSold()
  const [item] = template.data.items
  const tax = Math.round(product.price * 18) / 118
  return {
    ...template,
    id: randomUUID(),
    timestamp: Date.now(),
    userId: options.userId,
    // The event `type` values are undocumented (protocol §9.6); this one is descriptive only.
    type: 'ReceiptCreated',
    data: {
      ...template.data,
      id: randomUUID(),
      deviceId: options.deviceUuid,
      storeId: options.storeUuid,
      employeeId: options.employeeUuid ?? randomEvotorUuid(),
      dateTime: new Date().toISOString(),
      items: [
        {
          ...item,
          id: product.uuid,
          name: product.name,
          itemType: 'NORMAL',
          price: product.price,
          sumPrice: product.price,
          tax: Math.round(tax * 100) / 100,
        },
      ],
      totalTax: Math.round(tax * 100) / 100,
      totalAmount: product.price,
    },
  }
}

/**
 * Headers of a proxied terminal request as the cloud forwards it (protocol §3.2): the
 * `X-Evotor-*` ids and, when `token` is given, `Authorization: Bearer <token>`.
 *
 * @example
 * ```ts
 * await fetch(`${base}/api/whoami`, { headers: buildProxyHeaders({ token, userId, storeUuid, deviceUuid }) })
 * ```
 */
export function buildProxyHeaders(options: {
  token?: string
  userId: string
  storeUuid: string
  deviceUuid: string
}): Record<string, string> {
  const headers: Record<string, string> = {
    'x-evotor-store-uuid': options.storeUuid,
    'x-evotor-device-uuid': options.deviceUuid,
    'x-evotor-user-id': options.userId,
  }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  return headers
}
