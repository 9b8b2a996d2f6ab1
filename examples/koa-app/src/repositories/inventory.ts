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
 * A row belongs to the user who delivered it first: another user's entity with the same uuid
 * leaves it unchanged and is not counted as written.
 */
export interface InventoryRepository {
  /** Upserts all stores in one transaction; returns how many were written. */
  upsertStores(userId: string, stores: readonly InventoryEntityInput[]): number
  upsertDevices(userId: string, devices: readonly InventoryEntityInput[]): number
  upsertEmployees(userId: string, employees: readonly InventoryEntityInput[]): number
  getStore(uuid: string): StoreRecord | undefined
  getDevice(uuid: string): DeviceRecord | undefined
  getEmployee(uuid: string): EmployeeRecord | undefined
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
  // A row belongs to the user who delivered it first: another user's delivery of the same uuid
  // (a forged or misrouted webhook) must not take it over, so it is ignored.
  const upsertStore = db.prepare<[StoreRow]>(
    `INSERT INTO stores (uuid, user_id, name, address, raw, updated_at) VALUES (@uuid, @user_id, @name, @address, @raw, @updated_at)
     ON CONFLICT (uuid) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, address = excluded.address,
       raw = excluded.raw, updated_at = excluded.updated_at
     WHERE stores.user_id = excluded.user_id`,
  )
  const upsertDevice = db.prepare<[DeviceRow]>(
    `INSERT INTO devices (uuid, user_id, store_uuid, name, timezone_offset, raw, updated_at)
     VALUES (@uuid, @user_id, @store_uuid, @name, @timezone_offset, @raw, @updated_at)
     ON CONFLICT (uuid) DO UPDATE SET user_id = excluded.user_id, store_uuid = excluded.store_uuid, name = excluded.name,
       timezone_offset = excluded.timezone_offset, raw = excluded.raw, updated_at = excluded.updated_at
     WHERE devices.user_id = excluded.user_id`,
  )
  const upsertEmployee = db.prepare<[EmployeeRow]>(
    `INSERT INTO employees (uuid, user_id, name, last_name, role, phone, raw, updated_at)
     VALUES (@uuid, @user_id, @name, @last_name, @role, @phone, @raw, @updated_at)
     ON CONFLICT (uuid) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, last_name = excluded.last_name,
       role = excluded.role, phone = excluded.phone, raw = excluded.raw, updated_at = excluded.updated_at
     WHERE employees.user_id = excluded.user_id`,
  )
  const store = db.prepare<[string], StoreRow>('SELECT * FROM stores WHERE uuid = ?')
  const storesOf = db.prepare<[string], StoreRow>('SELECT * FROM stores WHERE user_id = ? ORDER BY uuid')
  const device = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE uuid = ?')
  const employee = db.prepare<[string], EmployeeRow>('SELECT * FROM employees WHERE uuid = ?')

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
    getStore: (uuid) => {
      const r = store.get(uuid)
      return r && toStore(r)
    },
    getDevice: (uuid) => {
      const r = device.get(uuid)
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
    getEmployee: (uuid) => {
      const r = employee.get(uuid)
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
