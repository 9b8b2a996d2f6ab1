import {
  idKey,
  type JsonObject,
  lastCopies,
  nextTurn,
  numberField,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
  writeChunk,
} from './context.js'

/**
 * Stores, devices or employees written per transaction: one multi-row upsert of at most 500 rows
 * (8 columns at most: 4,000 bound parameters). A batch is written in chunks with a turn of the
 * event loop between them, so a 10 MB delivery never holds the loop (and, on SQLite, the write
 * lock) for the whole batch.
 */
export const INVENTORY_PER_TRANSACTION = 500

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
 *
 * The upserts write {@link INVENTORY_PER_TRANSACTION} entities per transaction, one multi-row
 * statement each, with a turn of the event loop between transactions. Every entity is checked
 * before the first write (a batch with an entity without `uuid` writes nothing). A crash (or a
 * failure) in the middle of a batch leaves the chunks already committed, and the delivery is not
 * acknowledged: the cloud re-sends the whole batch, whose upserts are idempotent, so the result is
 * the same as if it had been written at once. A uuid repeated in a batch (in any case) is written
 * once, with its last copy's fields; a new row keeps the spelling of the first copy, a stored row
 * keeps its own. Each upsert returns how many distinct entities it wrote (a repeated uuid counts
 * once).
 */
export interface InventoryRepository {
  /** Upserts stores (see the interface for chunks and repeated uuids); returns how many were written. */
  upsertStores(userId: string, stores: readonly InventoryEntityInput[]): Promise<number>
  /** Upserts terminals, as {@link InventoryRepository.upsertStores} does. */
  upsertDevices(userId: string, devices: readonly InventoryEntityInput[]): Promise<number>
  /** Upserts employees, as {@link InventoryRepository.upsertStores} does. */
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
  const upsertAll = async <R extends StoreRow | DeviceRow | EmployeeRow>(
    table: 'stores' | 'devices' | 'employees',
    items: readonly InventoryEntityInput[],
    build: (item: JsonObject, uuid: string) => R,
    updated: readonly (keyof R & string)[],
  ): Promise<number> => {
    // Every uuid is checked before the first write: a batch with a bad one writes nothing.
    const copies = items.map((item, i) => ({ uuid: requireId(item.uuid, `${table}[${i}].uuid`), item }))
    // One row per uuid as the database compares them: a multi-row upsert never meets one key
    // twice. The last copy wins, as a row-by-row upsert would leave it.
    const unique = lastCopies(
      copies,
      (id) => idKey(data.kind, id),
      (copy, uuid) => ({ ...copy, uuid }),
    )
    let written = 0
    for (let offset = 0; offset < unique.length; offset += INVENTORY_PER_TRANSACTION) {
      // A turn of the event loop between chunks: other requests are served meanwhile.
      if (offset > 0) await nextTurn()
      // Rows are built a chunk at a time: serialising the whole batch at once would hold the loop.
      const rows = unique
        .slice(offset, offset + INVENTORY_PER_TRANSACTION)
        .map(({ uuid, item }) => build(asObject(item), uuid))
      written += await writeChunk(data, rows, async (trx, part) => {
        const result = await trx
          .insertInto(table as 'stores')
          .values(part as unknown as StoreRow[])
          .onConflict((oc) =>
            oc.columns(['user_id', 'uuid']).doUpdateSet((eb) => {
              const set: Record<string, unknown> = {}
              for (const column of updated) set[column] = eb.ref(`excluded.${column}` as 'excluded.name')
              return set
            }),
          )
          .executeTakeFirst()
        return Number(result.numInsertedOrUpdatedRows ?? 0n)
      })
    }
    return written
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
      return upsertAll<StoreRow>(
        'stores',
        items,
        (o, uuid) => ({
          uuid,
          user_id: userId,
          name: stringField(o, 'name'),
          address: stringField(o, 'address'),
          raw: JSON.stringify(o),
          updated_at: at,
        }),
        ['name', 'address', 'raw', 'updated_at'],
      )
    },
    async upsertDevices(userId, items) {
      requireId(userId, 'userId')
      const at = now().toISOString()
      return upsertAll<DeviceRow>(
        'devices',
        items,
        (o, uuid) => ({
          uuid,
          user_id: userId,
          store_uuid: stringField(o, 'storeUuid'),
          name: stringField(o, 'name'),
          timezone_offset: numberField(o, 'timezoneOffset'),
          raw: JSON.stringify(o),
          updated_at: at,
        }),
        ['store_uuid', 'name', 'timezone_offset', 'raw', 'updated_at'],
      )
    },
    async upsertEmployees(userId, items) {
      requireId(userId, 'userId')
      const at = now().toISOString()
      return upsertAll<EmployeeRow>(
        'employees',
        items,
        (o, uuid) => ({
          uuid,
          user_id: userId,
          name: stringField(o, 'name'),
          last_name: stringField(o, 'lastName'),
          role: stringField(o, 'role'),
          phone: phoneText(o),
          raw: JSON.stringify(o),
          updated_at: at,
        }),
        ['name', 'last_name', 'role', 'phone', 'raw', 'updated_at'],
      )
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
