import { toIsoUtc } from '../util/time.js'
import {
  type JsonObject,
  parseJsonObject,
  type RepositoryContext,
  requireId,
  stringField,
} from './context.js'

/** A v1 terminal document (protocol §6.11, §9.4): `uuid` plus any fields. */
export interface DocumentInput {
  readonly uuid: string
}

/** A stored document. */
export interface DocumentRecord {
  readonly storeUuid: string
  readonly uuid: string
  readonly userId: string
  readonly type: string | null
  readonly deviceUuid: string | null
  /** ISO-8601 UTC. */
  readonly closeDate: string | null
  readonly raw: JsonObject
  readonly receivedAt: string
}

/** Counts of a batch insert. */
export interface InsertCounts {
  readonly inserted: number
  readonly duplicates: number
}

/** Terminal documents, stored once per (user, store, uuid): users never share a row. */
export interface DocumentsRepository {
  /** Inserts new documents in one transaction; already stored ones are left untouched. */
  insert(userId: string, storeUuid: string, documents: readonly DocumentInput[]): Promise<InsertCounts>
  get(userId: string, storeUuid: string, uuid: string): Promise<DocumentRecord | undefined>
}

interface DocumentRow {
  store_uuid: string
  uuid: string
  user_id: string
  type: string | null
  device_uuid: string | null
  close_date: string | null
  raw: string
  received_at: string
}

/**
 * Creates the documents repository.
 *
 * @example
 * ```ts
 * const documents = createDocumentsRepository({ data, db: data.db, now: () => new Date() })
 * documents.insert(userId, storeUuid, body) // { inserted: 1, duplicates: 0 }
 * ```
 */
export function createDocumentsRepository(ctx: RepositoryContext): DocumentsRepository {
  const { data, db, now } = ctx
  return {
    async insert(userId, storeUuid, documents) {
      requireId(userId, 'userId')
      requireId(storeUuid, 'storeUuid')
      const at = now().toISOString()
      const rows = documents.map((document, i): DocumentRow => {
        const o = document as unknown as JsonObject
        return {
          store_uuid: storeUuid,
          uuid: requireId(document.uuid, `documents[${i}].uuid`),
          user_id: userId,
          type: stringField(o, 'type'),
          device_uuid: stringField(o, 'deviceUuid'),
          close_date: toIsoUtc(o.closeDate) ?? null,
          raw: JSON.stringify(document),
          received_at: at,
        }
      })
      if (rows.length === 0) return { inserted: 0, duplicates: 0 }
      const inserted = await data.transaction(async (trx) => {
        let count = 0
        for (const row of rows) {
          const result = await trx
            .insertInto('documents')
            .values(row)
            .onConflict((oc) => oc.doNothing())
            .executeTakeFirst()
          count += Number(result.numInsertedOrUpdatedRows ?? 0n)
        }
        return count
      })
      return { inserted, duplicates: documents.length - inserted }
    },
    async get(userId, storeUuid, uuid) {
      const row = await db
        .selectFrom('documents')
        .selectAll()
        .where('user_id', '=', userId)
        .where('store_uuid', '=', storeUuid)
        .where('uuid', '=', uuid)
        .executeTakeFirst()
      return (
        row && {
          storeUuid: row.store_uuid,
          uuid: row.uuid,
          userId: row.user_id,
          type: row.type,
          deviceUuid: row.device_uuid,
          closeDate: row.close_date,
          raw: parseJsonObject(row.raw),
          receivedAt: row.received_at,
        }
      )
    },
  }
}
