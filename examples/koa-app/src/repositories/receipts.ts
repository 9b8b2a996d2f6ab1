import { negateDecimal, sumDecimals, toDecimalString } from '../util/decimal.js'
import { toIsoUtc } from '../util/time.js'
import {
  type JsonObject,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'
import type { InsertCounts } from './documents.js'

/** A receipt event of `POST /api/v2/receipts` (protocol §6.12, §9.6); the receipt id is `data.id`. */
export interface ReceiptEventInput {
  readonly id?: unknown
  readonly data: { readonly id: string }
}

/** A stored receipt. */
export interface ReceiptRecord {
  readonly id: string
  readonly eventId: string | null
  readonly userId: string
  readonly storeId: string | null
  readonly deviceId: string | null
  readonly type: string | null
  /** ISO-8601 UTC. */
  readonly dateTime: string | null
  /** Exact decimal string of `data.totalAmount` (never a float, never null; see {@link receiptAmount}). */
  readonly totalAmount: string
  /** The whole event as received. */
  readonly raw: JsonObject
  readonly receivedAt: string
}

/** Number and total of receipts. */
export interface ReceiptSummary {
  readonly count: number
  /** Decimal string with at least two fraction digits, e.g. `'0.30'`. */
  readonly total: string
}

/** Receipts, stored once per (user, receipt id): two users may own the same receipt id. */
export interface ReceiptsRepository {
  /**
   * Inserts receipts in one transaction; a re-delivered receipt (same user and `data.id`) is
   * ignored. Throws a `RangeError` naming the receipt when its amount cannot be kept exactly
   * (see {@link receiptAmount}); nothing is stored then.
   */
  insert(userId: string, events: readonly ReceiptEventInput[]): InsertCounts
  get(userId: string, id: string): ReceiptRecord | undefined
  /**
   * Sales summary of one user's receipts in a store with `dayStart <= dateTime < dayEnd`: sales
   * (`SELL`) are added and refunds to buyers (`PAYBACK`) subtracted, exactly; other types (`BUY`
   * and `BUYBACK`, purchases from a supplier and their returns, and anything unknown) are not
   * sales and are left out of both the count and the total.
   */
  storeSummary(userId: string, storeUuid: string, dayStart: Date, dayEnd: Date): ReceiptSummary
}

/**
 * The exact amount of a receipt (the `data` of a receipt event): `totalAmount` as an exact
 * decimal string; when the receipt has no `totalAmount`, the exact sum of its items' `sumPrice`
 * (`'0'` without items). `undefined` when `totalAmount` is present but is not a decimal that fits
 * in `MAX_DECIMAL_DIGITS` digits: such a receipt is refused, never stored as 0 or NULL.
 *
 * @param data - the receipt (`event.data`)
 * @returns the decimal string, or `undefined` when the amount cannot be kept exactly
 * @example
 * ```ts
 * receiptAmount({ totalAmount: '12345678901234567890.123456789' }) // '12345678901234567890.123456789'
 * receiptAmount({ items: [{ sumPrice: 1.5 }, { sumPrice: '2' }] }) // '3.5'
 * ```
 */
export function receiptAmount(data: JsonObject): string | undefined {
  if (data.totalAmount !== undefined && data.totalAmount !== null) return toDecimalString(data.totalAmount)
  const sums: string[] = []
  if (Array.isArray(data.items)) {
    for (const item of data.items) {
      const sum = toDecimalString((item as { sumPrice?: unknown } | null)?.sumPrice)
      if (sum !== undefined) sums.push(sum)
    }
  }
  return sumDecimals(sums, 0)
}

/**
 * How each receipt type enters the sales summary: `1` added, `-1` subtracted. Types not listed
 * (e.g. `BUY`, `BUYBACK`) are not sales and are left out.
 */
export const SALES_RECEIPT_SIGNS: Readonly<Record<string, 1 | -1>> = Object.freeze({ SELL: 1, PAYBACK: -1 })

interface ReceiptRow {
  id: string
  event_id: string | null
  user_id: string
  store_id: string | null
  device_id: string | null
  type: string | null
  date_time: string | null
  total_amount: string
  raw: string
  received_at: string
}

/**
 * Creates the receipts repository.
 *
 * @example
 * ```ts
 * const receipts = createReceiptsRepository({ db: db.sqlite, now: () => new Date() })
 * receipts.insert(userId, Array.isArray(body) ? body : [body])
 * receipts.storeSummary(storeUuid, startOfDay, endOfDay) // { count: 1, total: '123.12' }
 * ```
 */
export function createReceiptsRepository(ctx: RepositoryContext): ReceiptsRepository {
  const { db, now } = ctx
  const insertRow = db.prepare<[ReceiptRow]>(
    `INSERT OR IGNORE INTO receipts (id, event_id, user_id, store_id, device_id, type, date_time, total_amount, raw, received_at)
     VALUES (@id, @event_id, @user_id, @store_id, @device_id, @type, @date_time, @total_amount, @raw, @received_at)`,
  )
  const select = db.prepare<[string, string], ReceiptRow>(
    'SELECT * FROM receipts WHERE user_id = ? AND id = ?',
  )
  const inRange = db.prepare<
    [{ store: string; from: string; to: string; user: string }],
    { type: string | null; total_amount: string }
  >(
    `SELECT type, total_amount FROM receipts
     WHERE user_id = @user AND store_id = @store AND date_time >= @from AND date_time < @to`,
  )

  const insert = db.transaction((userId: string, events: readonly ReceiptEventInput[]) => {
    const at = now().toISOString()
    let inserted = 0
    for (const [i, event] of events.entries()) {
      const data = event.data as unknown as JsonObject
      const amount = receiptAmount(data)
      if (amount === undefined) {
        throw new RangeError(`receipts[${i}].data.totalAmount is not a decimal that can be kept exactly`)
      }
      const row: ReceiptRow = {
        id: requireId(event.data?.id, `receipts[${i}].data.id`),
        event_id: typeof event.id === 'string' ? event.id : null,
        user_id: userId,
        store_id: stringField(data, 'storeId'),
        device_id: stringField(data, 'deviceId'),
        type: stringField(data, 'type'),
        date_time: toIsoUtc(data.dateTime) ?? null,
        total_amount: amount,
        raw: JSON.stringify(event),
        received_at: at,
      }
      inserted += insertRow.run(row).changes
    }
    return { inserted, duplicates: events.length - inserted }
  })

  return {
    insert: (userId, events) => insert.immediate(requireId(userId, 'userId'), events),
    get: (userId, id) => {
      const row = select.get(userId, id)
      return (
        row && {
          id: row.id,
          eventId: row.event_id,
          userId: row.user_id,
          storeId: row.store_id,
          deviceId: row.device_id,
          type: row.type,
          dateTime: row.date_time,
          totalAmount: row.total_amount,
          raw: parseJsonObject(row.raw),
          receivedAt: row.received_at,
        }
      )
    },
    storeSummary: (userId, storeUuid, dayStart, dayEnd) => {
      const rows = inRange.all({
        user: requireId(userId, 'userId'),
        store: storeUuid,
        from: dayStart.toISOString(),
        to: dayEnd.toISOString(),
      })
      // Money is summed in JS with BigInt over the decimal strings, never as SQL floats.
      const amounts: string[] = []
      for (const r of rows) {
        const sign = r.type === null ? undefined : SALES_RECEIPT_SIGNS[r.type.toUpperCase()]
        if (sign === undefined) continue
        amounts.push(sign === -1 ? negateDecimal(r.total_amount) : r.total_amount)
      }
      return { count: amounts.length, total: sumDecimals(amounts) }
    },
  }
}
