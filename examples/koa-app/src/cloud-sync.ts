import { randomUUID } from 'node:crypto'
import {
  type BulkTask,
  type CloudDocument,
  type CloudProductInput,
  createEvotorClient,
  type EvotorClient,
  isEvotorApiError,
} from 'evotor-partner/client'
import { DevicesSchema, EVOTOR_ROUTES, StoresSchema } from 'evotor-partner/protocol'
import type { CloudConfig } from './cloud-config.js'
import type { AppDb } from './database/index.js'
import type { Logger } from './logger.js'
import type { Repositories } from './repositories/index.js'

/** What one reconciliation run did. */
export interface ReconcileReport {
  readonly users: number
  /** Users another run held (two copies at once: one does the work). */
  readonly skipped: number
  readonly failed: number
  readonly documents: number
  readonly inserted: number
}

/** Options of {@link createCloudSync}. */
export interface CloudSyncOptions {
  /** The app's database (SQLite or PostgreSQL): cursors and leases live there. */
  data: AppDb
  repos: Repositories
  logger: Logger
  config: CloudConfig
  now?: () => Date
  /** For tests: the client to use (default: one built from `config`). */
  client?: EvotorClient
}

/** The app's use of the Evotor cloud: inventory after `user/token`, bulk pushes, reconciliation. */
export interface CloudSync {
  /** Queues a fetch of the user's stores and terminals; returns at once (the webhook answers first). */
  afterUserToken(userId: string): void
  /** Creates or replaces one product through a bulk write and waits for its final status. */
  pushProduct(
    userId: string,
    storeId: string,
    product: CloudProductInput,
    signal?: AbortSignal,
  ): Promise<BulkTask>
  /** Pages every installed user's documents since the persisted cursor and stores what is missing. */
  reconcileAll(signal?: AbortSignal): Promise<ReconcileReport>
  /** Starts the periodic reconciliation (no-op when the interval is 0). */
  start(): void
  /** Stops the timer and waits for queued work and a running reconciliation. */
  stop(): Promise<void>
}

/**
 * A fresh run re-reads this much before the newest document it saw: a terminal that was offline
 * uploads documents with an older close time. Re-reading is harmless (inserts are idempotent).
 */
const OVERLAP_MS = 60 * 60_000

interface CursorRow {
  cursor: string | null
  since_ms: number
}

/** A REST v2 document in the shape of the documents webhook (protocol §6.11), keyed by the same id. */
export function toWebhookDocument(doc: CloudDocument): Record<string, unknown> {
  return {
    uuid: doc.id,
    type: doc.type,
    ...(doc.store_id == null ? {} : { storeUuid: doc.store_id }),
    ...(doc.device_id == null ? {} : { deviceUuid: doc.device_id }),
    ...(doc.close_date == null ? {} : { closeDate: doc.close_date }),
    ...(doc.number == null ? {} : { number: String(doc.number) }),
    ...(doc.session_number == null ? {} : { sessionNumber: String(doc.session_number) }),
    body: doc.body ?? {},
    source: 'reconciliation',
  }
}

const closeTime = (doc: CloudDocument): number => {
  const raw = doc.close_date ?? doc.created_at
  const time = typeof raw === 'string' ? Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN
  return Number.isFinite(time) ? time : 0
}

/**
 * Creates the cloud sync of the example app.
 *
 * @example
 * ```ts
 * const cloud = createCloudSync({ data, repos, logger, config: cloudConfig })
 * cloud.start()
 * ```
 */
export function createCloudSync(options: CloudSyncOptions): CloudSync {
  const { data, repos, logger, config } = options
  const { db } = data
  const now = options.now ?? (() => new Date())
  const log = logger.child({ component: 'cloud-sync' })
  const client =
    options.client ??
    createEvotorClient({
      baseUrl: config.baseUrl,
      // A user without a token is skipped before any call; this only runs for known users.
      getToken: async (userId) => (await repos.evotorTokens.get(userId))?.token ?? '',
      logger: log,
    })
  const pending = new Set<Promise<void>>()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<ReconcileReport> | undefined
  const stopping = new AbortController()

  const users = () => db.selectFrom('evotor_tokens').select('user_id').orderBy('user_id').execute()
  const readCursor = (userId: string, storeId: string): Promise<CursorRow | undefined> =>
    db
      .selectFrom('cloud_sync_cursors')
      .select(['cursor', 'since_ms'])
      .where('user_id', '=', userId)
      .where('store_id', '=', storeId)
      .executeTakeFirst()
  const writeCursor = async (
    userId: string,
    storeId: string,
    cursor: string | null,
    sinceMs: number,
    at: string,
  ): Promise<void> => {
    await db
      .insertInto('cloud_sync_cursors')
      .values({ user_id: userId, store_id: storeId, cursor, since_ms: sinceMs, updated_at: at })
      .onConflict((oc) =>
        oc.columns(['user_id', 'store_id']).doUpdateSet({ cursor, since_ms: sinceMs, updated_at: at }),
      )
      .execute()
  }
  // A lease per user: two copies (processes or overlapping runs) never page the same user at once.
  const takeLease = async (
    userId: string,
    owner: string,
    expiresAt: number,
    at: number,
  ): Promise<boolean> => {
    const result = await db
      .insertInto('cloud_sync_leases')
      .values({ user_id: userId, owner, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({ owner, expires_at: expiresAt })
          .where('cloud_sync_leases.expires_at', '<=', at),
      )
      .executeTakeFirst()
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n
  }
  const dropLease = async (userId: string, owner: string): Promise<void> => {
    await db
      .deleteFrom('cloud_sync_leases')
      .where('user_id', '=', userId)
      .where('owner', '=', owner)
      .execute()
  }
  const renewLease = async (expiresAt: number, userId: string, owner: string): Promise<void> => {
    await db
      .updateTable('cloud_sync_leases')
      .set({ expires_at: expiresAt })
      .where('user_id', '=', userId)
      .where('owner', '=', owner)
      .execute()
  }

  function queue(work: () => Promise<void>): void {
    const job = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => log.warn({ error: describe(error) }, 'cloud sync job failed'))
      .finally(() => pending.delete(job))
    pending.add(job)
  }

  async function fetchInventory(userId: string): Promise<void> {
    const api = client.forUser(userId)
    const signal = stopping.signal
    const stores = await api.stores.list({ signal }).toArray()
    // The same schemas as the stores/devices webhooks: v2 snake_case in, webhook types out.
    const storeCount = await repos.inventory.upsertStores(userId, StoresSchema.parse(stores))
    const devices = await api.devices.list({ signal }).toArray()
    const deviceCount = await repos.inventory.upsertDevices(userId, DevicesSchema.parse(devices))
    log.info({ userId, stores: storeCount, devices: deviceCount }, 'inventory fetched from the cloud')
  }

  async function reconcileStore(
    userId: string,
    storeId: string,
    lease: string,
    signal: AbortSignal,
  ): Promise<{ documents: number; inserted: number }> {
    const api = client.forUser(userId)
    const saved = await readCursor(userId, storeId)
    const startedAt = now().getTime()
    let since = saved?.since_ms ?? startedAt - config.lookbackMs
    let documents = 0
    let inserted = 0
    const list =
      saved?.cursor != null
        ? api.documents.list(storeId, { cursor: saved.cursor, signal })
        : api.documents.list(storeId, { since: saved === undefined ? since : since - OVERLAP_MS, signal })
    for await (const page of list.pages()) {
      // The same schema and the same insert as the documents webhook: INSERT OR IGNORE by id.
      const body = EVOTOR_ROUTES.documents.request.parse(page.items.map(toWebhookDocument))
      const counts = await repos.documents.insert(userId, storeId, body)
      documents += page.items.length
      inserted += counts.inserted
      for (const doc of page.items) since = Math.max(since, closeTime(doc))
      // Persisted after the page is stored: a restart resumes at the next page.
      await writeCursor(userId, storeId, page.nextCursor ?? null, since, now().toISOString())
      await renewLease(now().getTime() + config.leaseMs, userId, lease)
    }
    return { documents, inserted }
  }

  async function reconcileUser(userId: string, signal: AbortSignal): Promise<ReconcileReport | 'skipped'> {
    const at = now().getTime()
    const lease = randomUUID() // one per run: two runs in one process exclude each other too
    if (!(await takeLease(userId, lease, at + config.leaseMs, at))) return 'skipped'
    try {
      let documents = 0
      let inserted = 0
      for await (const store of client.forUser(userId).stores.list({ signal })) {
        const counts = await reconcileStore(userId, store.id, lease, signal)
        documents += counts.documents
        inserted += counts.inserted
      }
      return { users: 1, skipped: 0, failed: 0, documents, inserted }
    } finally {
      await dropLease(userId, lease)
    }
  }

  async function runAll(signal: AbortSignal): Promise<ReconcileReport> {
    const total = { users: 0, skipped: 0, failed: 0, documents: 0, inserted: 0 }
    for (const { user_id: userId } of await users()) {
      signal.throwIfAborted()
      if (!(await repos.installations.isInstalled(userId))) continue
      try {
        const result = await reconcileUser(userId, signal)
        if (result === 'skipped') total.skipped += 1
        else {
          total.users += 1
          total.documents += result.documents
          total.inserted += result.inserted
        }
      } catch (error) {
        if (signal.aborted) throw error
        total.failed += 1
        log.warn({ userId, error: describe(error) }, 'reconciliation failed for a user')
      }
    }
    log.info(total, 'reconciliation done')
    return total
  }

  return {
    afterUserToken(userId) {
      queue(() => fetchInventory(userId))
    },
    async pushProduct(userId, storeId, product, signal) {
      const api = client.forUser(userId)
      const task = await api.products.bulkUpsert(storeId, [product], signal === undefined ? {} : { signal })
      return api.bulks.wait(task.id, {
        intervalMs: config.bulkPollMs,
        ...(signal === undefined ? {} : { signal }),
      })
    },
    reconcileAll(signal) {
      const combined = signal === undefined ? stopping.signal : AbortSignal.any([signal, stopping.signal])
      const run = runAll(combined)
      running = run
      return run.finally(() => {
        if (running === run) running = undefined
      })
    },
    start() {
      if (config.intervalMs <= 0 || timer !== undefined) return
      timer = setInterval(() => {
        if (running !== undefined) return
        this.reconcileAll().catch((error: unknown) => {
          if (!stopping.signal.aborted) log.warn({ error: describe(error) }, 'reconciliation failed')
        })
      }, config.intervalMs)
      timer.unref()
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      stopping.abort(new Error('the service is stopping'))
      await Promise.allSettled([...pending, ...(running === undefined ? [] : [running])])
    },
  }
}

/** An error for the log: the client's errors carry no token, others only their message. */
function describe(error: unknown): Record<string, unknown> {
  if (isEvotorApiError(error)) {
    return {
      status: error.status,
      code: error.code,
      method: error.method,
      path: error.path,
      message: error.message,
    }
  }
  return { message: error instanceof Error ? error.message : String(error) }
}
