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
  upsertStores(userId: string, stores: readonly InventoryEntityInput[]): Promise<number>
  upsertDevices(userId: string, devices: readonly InventoryEntityInput[]): Promise<number>
  upsertEmployees(userId: string, employees: readonly InventoryEntityInput[]): Promise<number>
  getStore(userId: string, uuid: string): Promise<StoreRecord | undefined>
  getDevice(userId: string, uuid: string): Promise<DeviceRecord | undefined>
  getEmployee(userId: string, uuid: string): Promise<EmployeeRecord | undefined>
  listStores(userId: string): Promise<StoreRecord[]>
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
 * const inventory = createInventoryRepository({ data, db: data.db, now: () => new Date() })
 * inventory.upsertStores(userId, body)
 * ```
 */
export function createInventoryRepository(ctx: RepositoryContext): InventoryRepository {
  const { data, db, now } = ctx
  // The stored uuid keeps the case of the first delivery; later ones only update the fields.
  // The conflict key includes the user: an upsert never touches another user's row, and the
  // owner column is never updated.
  const upsertAll = async <T extends 'stores' | 'devices' | 'employees'>(
    table: T,
    rows: ReadonlyArray<StoreRow | DeviceRow | EmployeeRow>,
    updated: readonly string[],
  ): Promise<number> => {
    if (rows.length === 0) return 0
    return data.transaction(async (trx) => {
      let written = 0
      for (const row of rows) {
        const result = await trx
          .insertInto(table as 'stores')
          .values(row as StoreRow)
          .onConflict((oc) =>
            oc.columns(['user_id', 'uuid']).doUpdateSet((eb) => {
              const set: Record<string, unknown> = {}
              for (const column of updated) set[column] = eb.ref(`excluded.${column}` as 'excluded.name')
              return set
            }),
          )
          .executeTakeFirst()
        written += Number(result.numInsertedOrUpdatedRows ?? 0n)
      }
      return written
    })
  }

  const toStore = (r: StoreRow): StoreRecord => ({
    uuid: r.uuid,
    userId: r.user_id,
    name: r.name,
    address: r.address,
    raw: parseJsonObject(r.raw),
    updatedAt: r.updated_at,
  })

  return {
    async upsertStores(userId, items) {
      requireId(userId, 'userId')
      const at = now().toISOString()
      const rows = items.map((item, i): StoreRow => {
        const o = asObject(item)
        return {
          uuid: requireId(item.uuid, `stores[${i}].uuid`),
          user_id: userId,
          name: stringField(o, 'name'),
          address: stringField(o, 'address'),
          raw: JSON.stringify(item),
          updated_at: at,
        }
      })
      return upsertAll('stores', rows, ['name', 'address', 'raw', 'updated_at'])
    },
    async upsertDevices(userId, items) {
      requireId(userId, 'userId')
      const at = now().toISOString()
      const rows = items.map((item, i): DeviceRow => {
        const o = asObject(item)
        return {
          uuid: requireId(item.uuid, `devices[${i}].uuid`),
          user_id: userId,
          store_uuid: stringField(o, 'storeUuid'),
          name: stringField(o, 'name'),
          timezone_offset: numberField(o, 'timezoneOffset'),
          raw: JSON.stringify(item),
          updated_at: at,
        }
      })
      return upsertAll('devices', rows, ['store_uuid', 'name', 'timezone_offset', 'raw', 'updated_at'])
    },
    async upsertEmployees(userId, items) {
      requireId(userId, 'userId')
      const at = now().toISOString()
      const rows = items.map((item, i): EmployeeRow => {
        const o = asObject(item)
        return {
          uuid: requireId(item.uuid, `employees[${i}].uuid`),
          user_id: userId,
          name: stringField(o, 'name'),
          last_name: stringField(o, 'lastName'),
          role: stringField(o, 'role'),
          phone: phoneText(o),
          raw: JSON.stringify(item),
          updated_at: at,
        }
      })
      return upsertAll('employees', rows, ['name', 'last_name', 'role', 'phone', 'raw', 'updated_at'])
    },
    async getStore(userId, uuid) {
      const r = await db
        .selectFrom('stores')
        .selectAll()
        .where('user_id', '=', userId)
        .where('uuid', '=', uuid)
        .executeTakeFirst()
      return r && toStore(r)
    },
    async getDevice(userId, uuid) {
      const r = await db
        .selectFrom('devices')
        .selectAll()
        .where('user_id', '=', userId)
        .where('uuid', '=', uuid)
        .executeTakeFirst()
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
    async getEmployee(userId, uuid) {
      const r = await db
        .selectFrom('employees')
        .selectAll()
        .where('user_id', '=', userId)
        .where('uuid', '=', uuid)
        .executeTakeFirst()
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
    async listStores(userId) {
      const rows = await db
        .selectFrom('stores')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('uuid')
        .execute()
      return rows.map(toStore)
    },
  }
}
