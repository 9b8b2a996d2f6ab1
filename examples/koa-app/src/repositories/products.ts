import { toDecimalString } from '../util/decimal.js'
import {
  type JsonObject,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'

/** A product of the products webhook (protocol §6.10, §9.1): `uuid` plus any fields. */
export interface ProductInput {
  readonly uuid: string
}

/** A stored product. */
export interface ProductRecord {
  readonly storeUuid: string
  readonly uuid: string
  readonly userId: string
  readonly name: string | null
  readonly group: boolean
  readonly type: string | null
  readonly measureName: string | null
  /** Decimal string, as received (no float rounding). */
  readonly price: string | null
  readonly barCodes: readonly string[]
  readonly alcoCodes: readonly string[]
  readonly raw: JsonObject
  readonly updatedAt: string
}

/**
 * Where to look a product up: always one user's products (never another user's catalogue), in
 * one store or, without `storeUuid`, in all of the user's stores (`GET /commodities` has no store).
 */
export interface ProductScope {
  readonly userId: string
  readonly storeUuid?: string | undefined
}

/** Products per store, with their barcodes and EGAIS codes indexed for lookup. */
export interface ProductsRepository {
  /**
   * Upserts products of one store in one transaction, replacing their codes; returns how many
   * were written. Rows are keyed by (user, store, uuid): another user's product under the same
   * (store, uuid) is a different row and is never touched.
   */
  upsert(userId: string, storeUuid: string, products: readonly ProductInput[]): number
  get(userId: string, storeUuid: string, uuid: string): ProductRecord | undefined
  /** The most recently updated product with this barcode in the scope. */
  findByBarcode(scope: ProductScope, barcode: string): ProductRecord | undefined
  /** The most recently updated product with this EGAIS alcohol code in the scope. */
  findByAlcoCode(scope: ProductScope, alcoCode: string): ProductRecord | undefined
}

interface ProductRow {
  store_uuid: string
  uuid: string
  user_id: string
  name: string | null
  is_group: number
  type: string | null
  measure_name: string | null
  price: string | null
  raw: string
  updated_at: string
}

type CodeKind = 'barcode' | 'alcocode'

/**
 * The codes of a product: camelCase `barCodes`/`alcoCodes` or the lower-case aliases sent
 * until 2018 (protocol §11 A34); non-empty strings only, deduplicated.
 *
 * @example
 * ```ts
 * productCodes({ barcodes: ['2000000000060'] }, 'barcode') // ['2000000000060']
 * ```
 */
export function productCodes(product: JsonObject, kind: CodeKind): string[] {
  const keys = kind === 'barcode' ? ['barCodes', 'barcodes'] : ['alcoCodes', 'alcocodes']
  const codes = new Set<string>()
  for (const key of keys) {
    const value = product[key]
    if (!Array.isArray(value)) continue
    for (const code of value) if (typeof code === 'string' && code.trim() !== '') codes.add(code.trim())
  }
  return [...codes]
}

/**
 * Creates the products repository.
 *
 * @example
 * ```ts
 * const products = createProductsRepository({ db: db.sqlite, now: () => new Date() })
 * products.upsert(userId, storeUuid, body)
 * products.findByBarcode({ userId, storeUuid }, '2000000000060')?.name // 'Сидр'
 * ```
 */
export function createProductsRepository(ctx: RepositoryContext): ProductsRepository {
  const { db, now } = ctx
  const upsertRow = db.prepare<[ProductRow]>(
    `INSERT INTO products (store_uuid, uuid, user_id, name, is_group, type, measure_name, price, raw, updated_at)
     VALUES (@store_uuid, @uuid, @user_id, @name, @is_group, @type, @measure_name, @price, @raw, @updated_at)
     ON CONFLICT (user_id, store_uuid, uuid) DO UPDATE SET name = excluded.name,
       is_group = excluded.is_group, type = excluded.type, measure_name = excluded.measure_name,
       price = excluded.price, raw = excluded.raw, updated_at = excluded.updated_at`,
  )
  const deleteCodes = db.prepare<[string, string, string]>(
    'DELETE FROM product_codes WHERE user_id = ? AND store_uuid = ? AND product_uuid = ?',
  )
  const insertCode = db.prepare<[string, string, string, CodeKind, string]>(
    'INSERT OR IGNORE INTO product_codes (user_id, store_uuid, product_uuid, kind, code) VALUES (?, ?, ?, ?, ?)',
  )
  const select = db.prepare<[string, string, string], ProductRow>(
    'SELECT * FROM products WHERE user_id = ? AND store_uuid = ? AND uuid = ?',
  )
  const codesOf = db.prepare<[string, string, string], { kind: CodeKind; code: string }>(
    'SELECT kind, code FROM product_codes WHERE user_id = ? AND store_uuid = ? AND product_uuid = ? ORDER BY rowid',
  )
  const byCode = db.prepare<
    [{ kind: CodeKind; code: string; user: string; store: string | null }],
    ProductRow
  >(
    `SELECT p.* FROM product_codes c
       JOIN products p ON p.user_id = c.user_id AND p.store_uuid = c.store_uuid AND p.uuid = c.product_uuid
     WHERE c.user_id = @user AND c.kind = @kind AND c.code = @code AND (@store IS NULL OR c.store_uuid = @store)
     ORDER BY p.updated_at DESC, p.rowid DESC LIMIT 1`,
  )

  const upsert = db.transaction((userId: string, storeUuid: string, products: readonly ProductInput[]) => {
    const at = now().toISOString()
    let written = 0
    for (const [i, product] of products.entries()) {
      const o = product as unknown as JsonObject
      const uuid = requireId(product.uuid, `products[${i}].uuid`)
      // Keyed by the user too: another user's product under the same (store, uuid) is never touched.
      const changed = upsertRow.run({
        store_uuid: storeUuid,
        uuid,
        user_id: userId,
        name: stringField(o, 'name'),
        is_group: o.group === true ? 1 : 0,
        type: stringField(o, 'type'),
        measure_name: stringField(o, 'measureName'),
        price: toDecimalString(o.price) ?? null,
        raw: JSON.stringify(product),
        updated_at: at,
      }).changes
      if (changed === 0) continue
      written++
      deleteCodes.run(userId, storeUuid, uuid)
      for (const code of productCodes(o, 'barcode')) insertCode.run(userId, storeUuid, uuid, 'barcode', code)
      for (const code of productCodes(o, 'alcocode'))
        insertCode.run(userId, storeUuid, uuid, 'alcocode', code)
    }
    return written
  })

  const toProduct = (row: ProductRow): ProductRecord => {
    const codes = codesOf.all(row.user_id, row.store_uuid, row.uuid)
    return {
      storeUuid: row.store_uuid,
      uuid: row.uuid,
      userId: row.user_id,
      name: row.name,
      group: row.is_group === 1,
      type: row.type,
      measureName: row.measure_name,
      price: row.price,
      barCodes: codes.filter((c) => c.kind === 'barcode').map((c) => c.code),
      alcoCodes: codes.filter((c) => c.kind === 'alcocode').map((c) => c.code),
      raw: parseJsonObject(row.raw),
      updatedAt: row.updated_at,
    }
  }

  const findByCode = (kind: CodeKind, scope: ProductScope, code: string): ProductRecord | undefined => {
    const row = byCode.get({ kind, code: code.trim(), user: scope.userId, store: scope.storeUuid ?? null })
    return row && toProduct(row)
  }

  return {
    upsert: (userId, storeUuid, products) =>
      upsert.immediate(requireId(userId, 'userId'), requireId(storeUuid, 'storeUuid'), products),
    get: (userId, storeUuid, uuid) => {
      const row = select.get(userId, storeUuid, uuid)
      return row && toProduct(row)
    },
    findByBarcode: (scope, barcode) => findByCode('barcode', scope, barcode),
    findByAlcoCode: (scope, alcoCode) => findByCode('alcocode', scope, alcoCode),
  }
}
