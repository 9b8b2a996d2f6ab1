/**
 * Typed resources of the REST API v2 and the publisher API (evotor-cloud-api.md §1–§2), built on
 * one call function. Responses are parsed leniently (unknown fields kept); bodies are compacted
 * (no `null`/`undefined` fields) before they are sent.
 */
import type { z } from 'zod'
import {
  BULK_FINAL_STATUSES,
  type BulkTask,
  BulkTaskSchema,
  type CloudDevice,
  CloudDeviceSchema,
  type CloudDocument,
  CloudDocumentSchema,
  type CloudEmployee,
  CloudEmployeeSchema,
  type CloudProduct,
  type CloudProductInput,
  CloudProductSchema,
  type CloudStore,
  CloudStoreSchema,
  type PublisherEvent,
  PublisherEventSchema,
  type PushNotification,
  PushNotificationSchema,
} from '../protocol/cloud.js'
import { EvotorApiError, type EvotorTokenKind } from './errors.js'
import { createList, type EvotorList, invalidResponse } from './paging.js'
import { type CallResult, type CallSpec, callEvotor, type TransportConfig } from './transport.js'

/**
 * Options every call takes.
 *
 * @example
 * ```ts
 * await client.stores.get(storeId, { signal: AbortSignal.timeout(5_000) })
 * ```
 */
export interface EvotorCallOptions {
  /** Cancels the call, including a wait between retries. */
  signal?: AbortSignal
}

/**
 * Options of a list: where to resume, and the page size to ask for.
 *
 * @example
 * ```ts
 * client.employees.list({ cursor: savedCursor })
 * ```
 */
export interface EvotorListOptions extends EvotorCallOptions {
  /** Resume from a cursor a previous page returned (`EvotorPage.nextCursor`). */
  cursor?: string
  limit?: number
}

/**
 * Filters of `GET /stores/{s}/documents`: `since`/`until` as a `Date` or epoch milliseconds.
 *
 * @example
 * ```ts
 * client.documents.list(storeId, { since: Date.now() - 86_400_000, type: 'SELL' })
 * ```
 */
export interface EvotorDocumentListOptions extends EvotorListOptions {
  since?: Date | number
  until?: Date | number
  /** A document type (`SELL`, `PAYBACK` …) or several. */
  type?: string | readonly string[]
}

/**
 * Options of `bulks.wait`.
 *
 * @example
 * ```ts
 * await client.bulks.wait(task.id, { intervalMs: 500, timeoutMs: 60_000 })
 * ```
 */
export interface EvotorBulkWaitOptions extends EvotorCallOptions {
  /** Time between polls; 1,000 ms by default. */
  intervalMs?: number
  /** Give up (an `EvotorApiError` with code `bulk_timeout`) after this long; 5 minutes by default. */
  timeoutMs?: number
}

/**
 * Products or product groups of one store (`/stores/{s}/products`, `/stores/{s}/product-groups`).
 *
 * @example
 * ```ts
 * const task = await client.products.bulkUpsert(storeId, [{ id: 'p1', name: 'Сидр', type: 'NORMAL' }])
 * const done = await client.bulks.wait(task.id)
 * ```
 */
export interface EvotorCatalogue<T> {
  /** Every item of the store, page by page. */
  list(storeId: string, options?: EvotorListOptions): EvotorList<T>
  /** One item by id. */
  get(storeId: string, id: string, options?: EvotorCallOptions): Promise<T>
  /** `POST` one item. */
  create(storeId: string, item: CloudProductInput, options?: EvotorCallOptions): Promise<T>
  /** `POST` many items as a bulk task. */
  bulkCreate(
    storeId: string,
    items: readonly CloudProductInput[],
    options?: EvotorCallOptions,
  ): Promise<BulkTask>
  /**
   * `PUT` many items as a bulk task (create or replace). Every item must carry `id`: an item
   * without one is refused before anything is sent (an undocumented Evotor rule).
   */
  bulkUpsert(
    storeId: string,
    items: readonly CloudProductInput[],
    options?: EvotorCallOptions,
  ): Promise<BulkTask>
  /** `PUT` one item, whole. */
  replace(storeId: string, id: string, item: CloudProductInput, options?: EvotorCallOptions): Promise<T>
  /** `PATCH` some fields of one item. */
  update(
    storeId: string,
    id: string,
    fields: Partial<CloudProductInput>,
    options?: EvotorCallOptions,
  ): Promise<T>
  /** `DELETE` one item. */
  delete(storeId: string, id: string, options?: EvotorCallOptions): Promise<void>
  /** `DELETE ?id=a,b`. */
  deleteMany(storeId: string, ids: readonly string[], options?: EvotorCallOptions): Promise<void>
}

/**
 * The REST API v2 as one user's cloud token sees it.
 *
 * @example
 * ```ts
 * const api: EvotorCloudApi = client.forUser(userId)
 * for await (const doc of api.documents.list(storeId, { since })) console.log(doc.id)
 * ```
 */
export interface EvotorCloudApi {
  /** `GET /stores` (scope `store:read`). */
  stores: {
    /** The user's stores. */
    list(options?: EvotorListOptions): EvotorList<CloudStore>
    /** One store by id. */
    get(id: string, options?: EvotorCallOptions): Promise<CloudStore>
  }
  /** `GET /devices` (scope `device:read`). */
  devices: {
    /** The user's terminals, of one store with `storeId`. */
    list(options?: EvotorListOptions & { storeId?: string }): EvotorList<CloudDevice>
    /** One terminal by id. */
    get(id: string, options?: EvotorCallOptions): Promise<CloudDevice>
  }
  /** `GET /employees` (scope `employee:read`). */
  employees: {
    /** The user's employees, of one store with `storeId`. */
    list(options?: EvotorListOptions & { storeId?: string }): EvotorList<CloudEmployee>
    /** One employee by id. */
    get(id: string, options?: EvotorCallOptions): Promise<CloudEmployee>
  }
  /** `GET /stores/{s}/documents` (scope `document:read`). */
  documents: {
    /** A store's documents, filtered by close time and type; resume with `{ cursor }`. */
    list(storeId: string, options?: EvotorDocumentListOptions): EvotorList<CloudDocument>
    /** One document by id. */
    get(storeId: string, id: string, options?: EvotorCallOptions): Promise<CloudDocument>
  }
  products: EvotorCatalogue<CloudProduct>
  productGroups: EvotorCatalogue<CloudProduct>
  /** Bulk tasks (`GET /bulks`). */
  bulks: {
    /** The user's bulk tasks. */
    list(options?: EvotorListOptions): EvotorList<BulkTask>
    /** One bulk task by id, with `details` once final. */
    get(id: string, options?: EvotorCallOptions): Promise<BulkTask>
    /** Polls until `COMPLETED`, `FAILED` or `DECLINED` and returns the task with its `details`. */
    wait(id: string, options?: EvotorBulkWaitOptions): Promise<BulkTask>
  }
}

/**
 * Filters of the publisher events feed.
 *
 * @example
 * ```ts
 * client.publisher.events.list({ since: lastSeen, type: 'Token' })
 * ```
 */
export interface EvotorEventListOptions extends EvotorListOptions {
  since?: Date | number
  until?: Date | number
  type?: string | readonly string[]
}

/**
 * A push notification to the partner's terminal app.
 *
 * @example
 * ```ts
 * const push: EvotorPushInput = { devices: [deviceId], payload: { refresh: true }, active_till: Date.now() + 60_000 }
 * ```
 */
export interface EvotorPushInput {
  devices: readonly string[]
  payload: unknown
  /** When the notification stops being delivered: a `Date`, epoch ms, or Evotor's own string. */
  active_till?: Date | number | string
}

/**
 * The publisher API, with the partner's publisher token.
 *
 * @example
 * ```ts
 * for await (const event of client.publisher.events.list({ since })) handle(event)
 * ```
 */
export interface EvotorPublisherApi {
  /** The events feed of the app (`GET /api/apps/{app}/events`). */
  events: {
    /** Events filtered by time and type; key idempotency on `id`. */
    list(options?: EvotorEventListOptions): EvotorList<PublisherEvent>
  }
  /** Push notifications to the app on the terminals. */
  pushNotifications: {
    /** Sends one notification to the listed terminals. */
    send(push: EvotorPushInput, options?: EvotorCallOptions): Promise<PushNotification>
    /** The task's status and the per-terminal statuses. */
    get(id: string, options?: EvotorCallOptions): Promise<PushNotification>
  }
}

/** @internal Supplies the token of each call (a fixed token, or the user's). */
export type TokenSource = () => string | Promise<string>

interface Ctx {
  config: TransportConfig
  token: TokenSource
  kind: EvotorTokenKind
}

const seg = (value: string): string => encodeURIComponent(value)

const millis = (value: Date | number | undefined): number | undefined =>
  value instanceof Date ? value.getTime() : value

const list = (value: string | readonly string[] | undefined): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : value.join(',')

async function call(ctx: Ctx, spec: Omit<CallSpec, 'token' | 'tokenKind'>): Promise<CallResult> {
  const token = await ctx.token()
  if (token === '') {
    throw new EvotorApiError({
      status: 0,
      code: 'unauthorized',
      method: spec.method,
      path: spec.path,
      message: `${spec.method} ${spec.path} was not sent: no ${ctx.kind === 'cloud' ? 'cloud token is known for this user (getToken returned none)' : 'publisher token'}`,
      tokenKind: ctx.kind,
    })
  }
  return callEvotor(ctx.config, { ...spec, token, tokenKind: ctx.kind })
}

async function one<S extends z.ZodType>(
  ctx: Ctx,
  schema: S,
  spec: Omit<CallSpec, 'token' | 'tokenKind'>,
): Promise<z.output<S>> {
  const { body, status } = await call(ctx, spec)
  const parsed = schema.safeParse(body)
  if (!parsed.success)
    throw invalidResponse(status, { method: spec.method, path: spec.path }, 'an unexpected body')
  return parsed.data
}

function paged<S extends z.ZodType>(
  ctx: Ctx,
  schema: S,
  path: string,
  scope: string | undefined,
  filters: Record<string, string | number | undefined>,
  options: EvotorListOptions & { accept?: string },
): EvotorList<z.output<S>> {
  const signal = options.signal
  return createList(
    schema,
    options.cursor,
    (cursor) =>
      call(ctx, {
        method: 'GET',
        path,
        // The next page is asked for with the cursor alone (evotor-cloud-api.md §1 "Paging").
        query: cursor === undefined ? { ...filters, limit: options.limit } : { cursor },
        signal,
        ...(scope === undefined ? {} : { scope }),
        ...(options.accept === undefined ? {} : { accept: options.accept }),
      }),
    { method: 'GET', path },
  )
}

const withSignal = (options: EvotorCallOptions | undefined): { signal?: AbortSignal } =>
  options?.signal === undefined ? {} : { signal: options.signal }

function refuse(method: string, path: string, subject: string, message: string): EvotorApiError {
  return new EvotorApiError({
    status: 0,
    code: 'invalid_request',
    method,
    path,
    message,
    violations: [{ reason: 'missing', subject }],
  })
}

function catalogue(ctx: Ctx, collection: string, scope: string): EvotorCatalogue<CloudProduct> {
  const base = (storeId: string) => `/stores/${seg(storeId)}/${collection}`
  const item = (storeId: string, id: string) => `${base(storeId)}/${seg(id)}`
  const read = `${scope}:read`
  const write = `${scope}:write`
  return {
    list: (storeId, options = {}) => paged(ctx, CloudProductSchema, base(storeId), read, {}, options),
    get: (storeId, id, options) =>
      one(ctx, CloudProductSchema, {
        method: 'GET',
        path: item(storeId, id),
        scope: read,
        ...withSignal(options),
      }),
    create: (storeId, body, options) =>
      one(ctx, CloudProductSchema, {
        method: 'POST',
        path: base(storeId),
        body,
        scope: write,
        ...withSignal(options),
      }),
    bulkCreate: (storeId, items, options) =>
      one(ctx, BulkTaskSchema, {
        method: 'POST',
        path: base(storeId),
        body: items,
        bulk: true,
        scope: write,
        ...withSignal(options),
      }),
    bulkUpsert: async (storeId, items, options) => {
      const path = base(storeId)
      const missing = items.findIndex((entry) => typeof entry.id !== 'string' || entry.id === '')
      if (missing >= 0) {
        throw refuse(
          'PUT',
          path,
          `[${missing}].id`,
          `PUT ${path}: item ${missing} has no id; every item of a bulk PUT needs one (nothing was sent)`,
        )
      }
      return one(ctx, BulkTaskSchema, {
        method: 'PUT',
        path,
        body: items,
        bulk: true,
        scope: write,
        ...withSignal(options),
      })
    },
    replace: (storeId, id, body, options) =>
      one(ctx, CloudProductSchema, {
        method: 'PUT',
        path: item(storeId, id),
        body: { ...body, id },
        scope: write,
        ...withSignal(options),
      }),
    update: (storeId, id, fields, options) =>
      one(ctx, CloudProductSchema, {
        method: 'PATCH',
        path: item(storeId, id),
        body: fields,
        scope: write,
        ...withSignal(options),
      }),
    delete: async (storeId, id, options) => {
      await call(ctx, { method: 'DELETE', path: item(storeId, id), scope: write, ...withSignal(options) })
    },
    deleteMany: async (storeId, ids, options) => {
      if (ids.length === 0) return
      await call(ctx, {
        method: 'DELETE',
        path: base(storeId),
        query: { id: ids.join(',') },
        scope: write,
        ...withSignal(options),
      })
    },
  }
}

const isFinal = (status: string): boolean => (BULK_FINAL_STATUSES as readonly string[]).includes(status)

async function waitForBulk(ctx: Ctx, id: string, options: EvotorBulkWaitOptions = {}): Promise<BulkTask> {
  const intervalMs = options.intervalMs ?? 1000
  const timeoutMs = options.timeoutMs ?? 300_000
  if (!(intervalMs >= 0) || !(timeoutMs > 0)) {
    throw new TypeError('bulks.wait: options.intervalMs must be >= 0 and options.timeoutMs > 0')
  }
  const path = `/bulks/${seg(id)}`
  const started = ctx.config.clock.now()
  let polls = 0
  for (;;) {
    const task = await one(ctx, BulkTaskSchema, { method: 'GET', path, ...withSignal(options) })
    polls += 1
    if (isFinal(task.status)) return task
    const waited = ctx.config.clock.now() - started
    if (waited + intervalMs > timeoutMs) {
      throw new EvotorApiError({
        status: 0,
        code: 'bulk_timeout',
        method: 'GET',
        path,
        message: `bulk task ${id} was still ${task.status} after ${polls} polls (${waited} ms)`,
        retry: { attempts: polls, waitedMs: waited },
      })
    }
    await ctx.config.clock.sleep(intervalMs, options.signal)
  }
}

/** @internal */
export function createCloudApi(config: TransportConfig, token: TokenSource): EvotorCloudApi {
  const ctx: Ctx = { config, token, kind: 'cloud' }
  const get = <S extends z.ZodType>(schema: S, path: string, scope: string, options?: EvotorCallOptions) =>
    one(ctx, schema, { method: 'GET', path, scope, ...withSignal(options) })
  return {
    stores: {
      list: (options = {}) => paged(ctx, CloudStoreSchema, '/stores', 'store:read', {}, options),
      get: (id, options) => get(CloudStoreSchema, `/stores/${seg(id)}`, 'store:read', options),
    },
    devices: {
      list: (options = {}) =>
        paged(ctx, CloudDeviceSchema, '/devices', 'device:read', { store_id: options.storeId }, options),
      get: (id, options) => get(CloudDeviceSchema, `/devices/${seg(id)}`, 'device:read', options),
    },
    employees: {
      list: (options = {}) =>
        paged(
          ctx,
          CloudEmployeeSchema,
          '/employees',
          'employee:read',
          { store_id: options.storeId },
          options,
        ),
      get: (id, options) => get(CloudEmployeeSchema, `/employees/${seg(id)}`, 'employee:read', options),
    },
    documents: {
      list: (storeId, options = {}) =>
        paged(
          ctx,
          CloudDocumentSchema,
          `/stores/${seg(storeId)}/documents`,
          'document:read',
          { since: millis(options.since), until: millis(options.until), type: list(options.type) },
          options,
        ),
      get: (storeId, id, options) =>
        get(CloudDocumentSchema, `/stores/${seg(storeId)}/documents/${seg(id)}`, 'document:read', options),
    },
    products: catalogue(ctx, 'products', 'product'),
    productGroups: catalogue(ctx, 'product-groups', 'product-group'),
    bulks: {
      list: (options = {}) => paged(ctx, BulkTaskSchema, '/bulks', undefined, {}, options),
      get: (id, options) =>
        one(ctx, BulkTaskSchema, { method: 'GET', path: `/bulks/${seg(id)}`, ...withSignal(options) }),
      wait: (id, options) => waitForBulk(ctx, id, options),
    },
  }
}

/** @internal */
export function createPublisherApi(
  config: TransportConfig,
  token: TokenSource,
  appId: string,
): EvotorPublisherApi {
  const ctx: Ctx = { config, token, kind: 'publisher' }
  const app = `/api/apps/${seg(appId)}`
  const accept = 'application/json'
  return {
    events: {
      list: (options = {}) =>
        paged(
          ctx,
          PublisherEventSchema,
          `${app}/events`,
          undefined,
          { since: millis(options.since), until: millis(options.until), type: list(options.type) },
          { ...options, accept },
        ),
    },
    pushNotifications: {
      send: (push, options) =>
        one(ctx, PushNotificationSchema, {
          method: 'POST',
          path: `${app}/push-notifications`,
          body: {
            devices: push.devices,
            payload: push.payload,
            active_till: push.active_till instanceof Date ? push.active_till.getTime() : push.active_till,
          },
          accept,
          ...withSignal(options),
        }),
      get: (id, options) =>
        one(ctx, PushNotificationSchema, {
          method: 'GET',
          path: `${app}/push-notifications/${seg(id)}`,
          accept,
          ...withSignal(options),
        }),
    },
  }
}
