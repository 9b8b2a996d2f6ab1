import type { Kysely } from 'kysely'
import type { Schema } from '../database/index.js'
import { sumDecimals, toDecimalString } from '../util/decimal.js'
import { toIsoUtc } from '../util/time.js'
import {
  type JsonObject,
  nextTurn,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'
import type { InsertCounts } from './documents.js'
import { addToTotals, SALES_RECEIPT_SIGNS, summariseSales } from './receipt-totals.js'

export { SALES_RECEIPT_SIGNS }

/**
 * Receipts written per transaction. A batch is inserted in chunks with a turn of the event loop
 * between them, so a 10 MB batch never holds the loop (and, on SQLite, the write lock) for the
 * whole batch: other requests, /health included, are served in between.
 */
export const RECEIPTS_PER_TRANSACTION = 500

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

/** Options of {@link ReceiptsRepository.insert}. */
export interface ReceiptInsertOptions {
  /**
   * Runs in the batch's last transaction, after its inserts, so that it commits with them (or
   * not at all): the webhook marks the delivery's idempotency claim done here. Not called when
   * the batch holds no receipt to write.
   */
  inLastTransaction?: (trx: Kysely<Schema>) => Promise<void>
}

/** Receipts, stored once per (user, receipt id): two users may own the same receipt id. */
export interface ReceiptsRepository {
  /**
   * Inserts receipts, {@link RECEIPTS_PER_TRANSACTION} per transaction with a yield to the event
   * loop between transactions; a re-delivered receipt (same user and `data.id`) is ignored, so
   * a retried batch never inserts a receipt twice. Each transaction adds its new receipts to the
   * running sales totals too, so rows and totals commit together. A crash (or a failure) in the
   * middle of a batch leaves the chunks already committed, and the delivery is not acknowledged:
   * the cloud re-sends the whole batch, whose stored receipts are then skipped as duplicates and
   * the rest inserted, so nothing is lost or counted twice. Throws a `RangeError` naming the
   * receipt when its amount cannot be kept exactly (see {@link receiptAmount}); nothing is
   * stored then (every receipt is checked before the first write).
   */
  insert(
    userId: string,
    events: readonly ReceiptEventInput[],
    options?: ReceiptInsertOptions,
  ): Promise<InsertCounts>
  get(userId: string, id: string): Promise<ReceiptRecord | undefined>
  /**
   * Sales summary of one user's receipts in a store with `dayStart <= dateTime < dayEnd`: sales
   * (`SELL`) are added and refunds to buyers (`PAYBACK`) subtracted, exactly; other types (`BUY`
   * and `BUYBACK`, purchases from a supplier and their returns, and anything unknown) are not
   * sales and are left out of both the count and the total.
   */
  storeSummary(userId: string, storeUuid: string, dayStart: Date, dayEnd: Date): Promise<ReceiptSummary>
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
 * const receipts = createReceiptsRepository({ data, db: data.db, now: () => new Date() })
 * await receipts.insert(userId, Array.isArray(body) ? body : [body])
 * await receipts.storeSummary(userId, storeUuid, startOfDay, endOfDay) // { count: 1, total: '123.12' }
 * ```
 */
export function createReceiptsRepository(ctx: RepositoryContext): ReceiptsRepository {
  const { data, db, now } = ctx

  return {
    async insert(userId, events, options = {}) {
      requireId(userId, 'userId')
      const at = now().toISOString()
      // Validated and built before the transaction: the write lock is held for the inserts only.
      const built = events.map((event, i): ReceiptRow => {
        const payload = event.data as unknown as JsonObject
        const amount = receiptAmount(payload)
        if (amount === undefined) {
          throw new RangeError(`receipts[${i}].data.totalAmount is not a decimal that can be kept exactly`)
        }
        return {
          id: requireId(event.data?.id, `receipts[${i}].data.id`),
          event_id: typeof event.id === 'string' ? event.id : null,
          user_id: userId,
          store_id: stringField(payload, 'storeId'),
          device_id: stringField(payload, 'deviceId'),
          type: stringField(payload, 'type'),
          date_time: toIsoUtc(payload.dateTime) ?? null,
          total_amount: amount,
          raw: JSON.stringify(event),
          received_at: at,
        }
      })
      // A batch may repeat a receipt id: the first copy wins (ids compare without case, as the
      // column does), so that one statement never holds two copies of one key.
      const firstCopies = new Map<string, ReceiptRow>()
      for (const row of built)
        if (!firstCopies.has(row.id.toLowerCase())) firstCopies.set(row.id.toLowerCase(), row)
      const rows = [...firstCopies.values()]
      if (rows.length === 0) return { inserted: 0, duplicates: 0 }
      let inserted = 0
      for (let offset = 0; offset < rows.length; offset += RECEIPTS_PER_TRANSACTION) {
        // A turn of the event loop between chunks: other requests are served meanwhile.
        if (offset > 0) await nextTurn()
        const chunk = rows.slice(offset, offset + RECEIPTS_PER_TRANSACTION)
        inserted += await data.transaction(async (trx) => {
          // One instance at a time adds to this user's running totals (nothing on SQLite, whose
          // write transaction is exclusive already).
          await data.lock(trx, `receipts:${userId}`)
          // One statement per chunk; the ids it returns are the rows it inserted (stored ones
          // conflict and are skipped), which is what the totals add.
          const returned = await trx
            .insertInto('receipts')
            .values(chunk)
            .onConflict((oc) => oc.doNothing())
            .returning('id')
            .execute()
          const ids = new Set(returned.map((r) => r.id))
          const added = chunk.filter((row) => ids.has(row.id))
          await addToTotals(trx, userId, added)
          if (offset + RECEIPTS_PER_TRANSACTION >= rows.length) await options.inLastTransaction?.(trx)
          return added.length
        })
      }
      return { inserted, duplicates: events.length - inserted }
    },
    async get(userId, id) {
      const row = await db
        .selectFrom('receipts')
        .selectAll()
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst()
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
    async storeSummary(userId, storeUuid, dayStart, dayEnd) {
      // From the running totals (exact decimal sums kept on insert), never a scan of the day's
      // receipts; bound to the user in every query.
      return summariseSales(db, requireId(userId, 'userId'), storeUuid, dayStart, dayEnd)
    },
  }
}
