import {
  type JsonObject,
  numberField,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'

/** An entity of the stores/devices/employees webhooks: `uuid` plus any fields (protocol §6.7–6.9). */
export interface InventoryEntityInput {
  readonly uuid: string
}

/** A stored store. */
export interface StoreRecord {
  readonly uuid: string
  readonly userId: string
  readonly name: string | null
  readonly address: string | null
  readonly raw: JsonObject
  readonly updatedAt: string
}

/** A stored terminal. */
export interface DeviceRecord {
  readonly uuid: string
  readonly userId: string
  readonly storeUuid: string | null
  readonly name: string | null
  /** Milliseconds (protocol §6.8). */
  readonly timezoneOffset: number | null
  readonly raw: JsonObject
  readonly updatedAt: string
}

/** A stored employee. */
export interface EmployeeRecord {
  readonly uuid: string
  readonly userId: string
  readonly name: string | null
  readonly lastName: string | null
  readonly role: string | null
  /** Kept as a string although Evotor sends a JSON number (protocol §11 A41). */
  readonly phone: string | null
  readonly raw: JsonObject
  readonly updatedAt: string
}

/**
 * Stores, terminals and employees mirrored from the cabinet. Every webhook delivers full
 * entities, so each call upserts (protocol §5.1); ids keep their case, lookups ignore it.
 * Rows are keyed by (user, uuid): each user has their own rows, another user's entity with the
 * same uuid is a different row, and every read names the user.
 */
export interface InventoryRepository {
  /** Upserts all stores in one transaction; returns how many were written. */
  upsertStores(userId: string, stores: readonly InventoryEntityInput[]): number
  upsertDevices(userId: string, devices: readonly InventoryEntityInput[]): number
  upsertEmployees(userId: string, employees: readonly InventoryEntityInput[]): number
  getStore(userId: string, uuid: string): StoreRecord | undefined
  getDevice(userId: string, uuid: string): DeviceRecord | undefined
  getEmployee(userId: string, uuid: string): EmployeeRecord | undefined
  listStores(userId: string): StoreRecord[]
}

interface BaseRow {
  uuid: string
  user_id: string
  raw: string
  updated_at: string
}
interface StoreRow extends BaseRow {
  name: string | null
  address: string | null
}
interface DeviceRow extends BaseRow {
  store_uuid: string | null
  name: string | null
  timezone_offset: number | null
}
interface EmployeeRow extends BaseRow {
  name: string | null
  last_name: string | null
  role: string | null
  phone: string | null
}

function asObject(entity: InventoryEntityInput): JsonObject {
  return entity as unknown as JsonObject
}

function phoneText(entity: JsonObject): string | null {
  const phone = entity.phone
  if (typeof phone === 'number' && Number.isSafeInteger(phone)) return String(phone)
  return typeof phone === 'string' ? phone : null
}

/**
 * Creates the inventory repository.
 *
 * @example
 * ```ts
 * const inventory = createInventoryRepository({ db: db.sqlite, now: () => new Date() })
 * inventory.upsertStores(userId, body)
 * ```
 */
export function createInventoryRepository(ctx: RepositoryContext): InventoryRepository {
  const { db, now } = ctx
  // The stored uuid keeps the case of the first delivery; later ones only update the fields.
  // The conflict key includes the user: an upsert never touches another user's row, and the
  // owner column is never updated.
  const upsertStore = db.prepare<[StoreRow]>(
    `INSERT INTO stores (uuid, user_id, name, address, raw, updated_at) VALUES (@uuid, @user_id, @name, @address, @raw, @updated_at)
     ON CONFLICT (user_id, uuid) DO UPDATE SET name = excluded.name, address = excluded.address,
       raw = excluded.raw, updated_at = excluded.updated_at`,
  )
  const upsertDevice = db.prepare<[DeviceRow]>(
    `INSERT INTO devices (uuid, user_id, store_uuid, name, timezone_offset, raw, updated_at)
     VALUES (@uuid, @user_id, @store_uuid, @name, @timezone_offset, @raw, @updated_at)
     ON CONFLICT (user_id, uuid) DO UPDATE SET store_uuid = excluded.store_uuid, name = excluded.name,
       timezone_offset = excluded.timezone_offset, raw = excluded.raw, updated_at = excluded.updated_at`,
  )
  const upsertEmployee = db.prepare<[EmployeeRow]>(
    `INSERT INTO employees (uuid, user_id, name, last_name, role, phone, raw, updated_at)
     VALUES (@uuid, @user_id, @name, @last_name, @role, @phone, @raw, @updated_at)
     ON CONFLICT (user_id, uuid) DO UPDATE SET name = excluded.name, last_name = excluded.last_name,
       role = excluded.role, phone = excluded.phone, raw = excluded.raw, updated_at = excluded.updated_at`,
  )
  const store = db.prepare<[string, string], StoreRow>('SELECT * FROM stores WHERE user_id = ? AND uuid = ?')
  const storesOf = db.prepare<[string], StoreRow>('SELECT * FROM stores WHERE user_id = ? ORDER BY uuid')
  const device = db.prepare<[string, string], DeviceRow>(
    'SELECT * FROM devices WHERE user_id = ? AND uuid = ?',
  )
  const employee = db.prepare<[string, string], EmployeeRow>(
    'SELECT * FROM employees WHERE user_id = ? AND uuid = ?',
  )

  const stores = db.transaction((userId: string, items: readonly InventoryEntityInput[]) => {
    const at = now().toISOString()
    let written = 0
    for (const [i, item] of items.entries()) {
      const o = asObject(item)
      written += upsertStore.run({
        uuid: requireId(item.uuid, `stores[${i}].uuid`),
        user_id: userId,
        name: stringField(o, 'name'),
        address: stringField(o, 'address'),
        raw: JSON.stringify(item),
        updated_at: at,
      }).changes
    }
    return written
  })
  const devices = db.transaction((userId: string, items: readonly InventoryEntityInput[]) => {
    const at = now().toISOString()
    let written = 0
    for (const [i, item] of items.entries()) {
      const o = asObject(item)
      written += upsertDevice.run({
        uuid: requireId(item.uuid, `devices[${i}].uuid`),
        user_id: userId,
        store_uuid: stringField(o, 'storeUuid'),
        name: stringField(o, 'name'),
        timezone_offset: numberField(o, 'timezoneOffset'),
        raw: JSON.stringify(item),
        updated_at: at,
      }).changes
    }
    return written
  })
  const employees = db.transaction((userId: string, items: readonly InventoryEntityInput[]) => {
    const at = now().toISOString()
    let written = 0
    for (const [i, item] of items.entries()) {
      const o = asObject(item)
      written += upsertEmployee.run({
        uuid: requireId(item.uuid, `employees[${i}].uuid`),
        user_id: userId,
        name: stringField(o, 'name'),
        last_name: stringField(o, 'lastName'),
        role: stringField(o, 'role'),
        phone: phoneText(o),
        raw: JSON.stringify(item),
        updated_at: at,
      }).changes
    }
    return written
  })

  const toStore = (r: StoreRow): StoreRecord => ({
    uuid: r.uuid,
    userId: r.user_id,
    name: r.name,
    address: r.address,
    raw: parseJsonObject(r.raw),
    updatedAt: r.updated_at,
  })

  return {
    upsertStores: (userId, items) => stores.immediate(requireId(userId, 'userId'), items),
    upsertDevices: (userId, items) => devices.immediate(requireId(userId, 'userId'), items),
    upsertEmployees: (userId, items) => employees.immediate(requireId(userId, 'userId'), items),
    getStore: (userId, uuid) => {
      const r = store.get(userId, uuid)
      return r && toStore(r)
    },
    getDevice: (userId, uuid) => {
      const r = device.get(userId, uuid)
      return (
        r && {
          uuid: r.uuid,
          userId: r.user_id,
          storeUuid: r.store_uuid,
          name: r.name,
          timezoneOffset: r.timezone_offset,
          raw: parseJsonObject(r.raw),
          updatedAt: r.updated_at,
        }
      )
    },
    getEmployee: (userId, uuid) => {
      const r = employee.get(userId, uuid)
      return (
        r && {
          uuid: r.uuid,
          userId: r.user_id,
          name: r.name,
          lastName: r.last_name,
          role: r.role,
          phone: r.phone,
          raw: parseJsonObject(r.raw),
          updatedAt: r.updated_at,
        }
      )
    },
    listStores: (userId) => storesOf.all(userId).map(toStore),
  }
}
