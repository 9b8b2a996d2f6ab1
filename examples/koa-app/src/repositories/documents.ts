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
  insert(userId: string, storeUuid: string, documents: readonly DocumentInput[]): InsertCounts
  get(userId: string, storeUuid: string, uuid: string): DocumentRecord | undefined
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
 * const documents = createDocumentsRepository({ db: db.sqlite, now: () => new Date() })
 * documents.insert(userId, storeUuid, body) // { inserted: 1, duplicates: 0 }
 * ```
 */
export function createDocumentsRepository(ctx: RepositoryContext): DocumentsRepository {
  const { db, now } = ctx
  const insertRow = db.prepare<[DocumentRow]>(
    `INSERT OR IGNORE INTO documents (store_uuid, uuid, user_id, type, device_uuid, close_date, raw, received_at)
     VALUES (@store_uuid, @uuid, @user_id, @type, @device_uuid, @close_date, @raw, @received_at)`,
  )
  const select = db.prepare<[string, string, string], DocumentRow>(
    'SELECT * FROM documents WHERE user_id = ? AND store_uuid = ? AND uuid = ?',
  )

  const insert = db.transaction((userId: string, storeUuid: string, documents: readonly DocumentInput[]) => {
    const at = now().toISOString()
    let inserted = 0
    for (const [i, document] of documents.entries()) {
      const o = document as unknown as JsonObject
      const row: DocumentRow = {
        store_uuid: storeUuid,
        uuid: requireId(document.uuid, `documents[${i}].uuid`),
        user_id: userId,
        type: stringField(o, 'type'),
        device_uuid: stringField(o, 'deviceUuid'),
        close_date: toIsoUtc(o.closeDate) ?? null,
        raw: JSON.stringify(document),
        received_at: at,
      }
      inserted += insertRow.run(row).changes
    }
    return { inserted, duplicates: documents.length - inserted }
  })

  return {
    insert: (userId, storeUuid, documents) =>
      insert.immediate(requireId(userId, 'userId'), requireId(storeUuid, 'storeUuid'), documents),
    get: (userId, storeUuid, uuid) => {
      const row = select.get(userId, storeUuid, uuid)
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
