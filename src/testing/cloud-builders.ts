/**
 * Builders of REST API v2 entities (snake_case, evotor-cloud-api.md §1) to seed
 * `createFakeEvotorCloud()` with, or to compare a client's answers against.
 */
import { randomUUID } from 'node:crypto'
import type {
  CloudDevice,
  CloudDocument,
  CloudEmployee,
  CloudProduct,
  CloudStore,
} from '../protocol/cloud.js'
import { formatEvotorDate, randomEvotorUuid } from './builders.js'

/**
 * A store as `GET /stores` returns it; fresh id unless given.
 *
 * @param options - fields to set.
 * @returns the store.
 * @example
 * ```ts
 * const store = buildCloudStore({ name: 'Кофейня на Ленина' })
 * ```
 */
export function buildCloudStore(options: { id?: string; name?: string; address?: string } = {}): CloudStore {
  return {
    id: options.id ?? randomEvotorUuid(),
    name: options.name ?? 'Магазин',
    address: options.address ?? 'Москва, ул. Тверская, 1',
    created_at: formatEvotorDate(),
  }
}

/**
 * A terminal of a store as `GET /devices` returns it.
 *
 * @param options - the store and fields to set.
 * @returns the terminal.
 * @example
 * ```ts
 * const device = buildCloudDevice({ storeId: store.id })
 * ```
 */
export function buildCloudDevice(options: { storeId: string; id?: string; name?: string }): CloudDevice {
  return {
    id: options.id ?? randomEvotorUuid(),
    name: options.name ?? 'Эвотор 7.2',
    store_id: options.storeId,
    timezone_offset: 10_800_000,
    imei: '350000000000000',
    firmware_version: '4.9.9',
    serial_number: '00307900000000',
    device_model: '7_2',
  }
}

/**
 * An employee of a store as `GET /employees` returns it.
 *
 * @param options - the store and fields to set.
 * @returns the employee.
 * @example
 * ```ts
 * const cashier = buildCloudEmployee({ storeId: store.id, role: 'CASHIER' })
 * ```
 */
export function buildCloudEmployee(options: { storeId: string; id?: string; role?: string }): CloudEmployee {
  return {
    id: options.id ?? randomEvotorUuid(),
    name: 'Иван',
    last_name: 'Петров',
    phone: '79876543210',
    stores: [options.storeId],
    role: options.role ?? 'CASHIER',
  }
}

/**
 * A terminal document as `GET /stores/{s}/documents` returns it: by default a SELL of one
 * position paid in cash, closed now.
 *
 * @param options - store, terminal, type, close time and the position sold.
 * @returns the document.
 * @example
 * ```ts
 * const sale = buildCloudDocument({ storeId, deviceId, closedAt: new Date('2026-01-10T09:00:00Z') })
 * ```
 */
export function buildCloudDocument(options: {
  storeId: string
  deviceId: string
  id?: string
  type?: string
  closedAt?: Date
  userId?: string
  position?: { id?: string; name: string; price: number | string; quantity?: number | string }
}): CloudDocument {
  const position = options.position ?? { name: 'Квас', price: '89.90', quantity: '1' }
  const price = String(position.price)
  const quantity = String(position.quantity ?? '1')
  const sum = (Number(price) * Number(quantity)).toFixed(2)
  return {
    id: options.id ?? randomUUID(),
    type: options.type ?? 'SELL',
    store_id: options.storeId,
    device_id: options.deviceId,
    ...(options.userId === undefined ? {} : { user_id: options.userId }),
    number: 1,
    session_number: 1,
    close_date: formatEvotorDate(options.closedAt ?? new Date()),
    body: {
      positions: [
        {
          product_id: position.id ?? randomUUID(),
          product_name: position.name,
          measure_name: 'шт',
          price,
          quantity,
          sum,
          result_sum: sum,
          tax: { type: 'NO_VAT', sum: '0.00' },
        },
      ],
      payments: [{ type: 'CASH', sum }],
      doc_discounts: [],
      sum,
      result_sum: sum,
    },
  }
}

/**
 * A product as `GET /stores/{s}/products` returns it.
 *
 * @param options - fields to set.
 * @returns the product.
 * @example
 * ```ts
 * const cider = buildCloudProduct({ name: 'Сидр', price: '120.50' })
 * ```
 */
export function buildCloudProduct(
  options: { id?: string; name?: string; price?: number | string; parentId?: string } = {},
): CloudProduct {
  return {
    id: options.id ?? randomUUID(),
    name: options.name ?? 'Сидр',
    type: 'NORMAL',
    price: options.price ?? '120.50',
    cost_price: '80.00',
    quantity: '10.000',
    measure_name: 'шт',
    tax: 'VAT_20',
    allow_to_sell: true,
    barcodes: ['2000000000060'],
    ...(options.parentId === undefined ? {} : { parent_id: options.parentId }),
  }
}
