/**
 * `createFakeEvotorCloud()`: an in-process HTTP server that behaves like the Evotor cloud's REST
 * API v2 and publisher API (evotor-cloud-api.md §1–§2), for a partner's own tests. Data is kept
 * per user (one user never sees another's stores); lists are cursor-paged with the next page asked
 * for by `?cursor=` alone; bulk writes become tasks that move `ACCEPTED → RUNNING → COMPLETED |
 * FAILED` as they are polled; faults (401/403/429/5xx, slow answers, dropped connections) are
 * configured per test.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseJsonBody } from '../core/safe-json.js'
import type {
  BulkTask,
  CloudDevice,
  CloudDocument,
  CloudEmployee,
  CloudProduct,
  CloudStore,
  PublisherEvent,
} from '../protocol/cloud.js'
import { isEvotorDateTime, parseEvotorDateTime } from '../protocol/ids.js'
import { randomToken, randomUserId } from './builders.js'

/**
 * Every scope of the REST API (Java SDK `@Scope`); a user gets all of them unless told.
 *
 * @example
 * ```ts
 * cloud.addUser({ scopes: FAKE_CLOUD_SCOPES.filter((s) => !s.endsWith(':write')) })
 * ```
 */
export const FAKE_CLOUD_SCOPES = [
  'store:read',
  'device:read',
  'employee:read',
  'document:read',
  'product:read',
  'product:write',
  'product-group:read',
  'product-group:write',
] as const

/**
 * Options of {@link createFakeEvotorCloud}.
 *
 * @example
 * ```ts
 * const cloud = await createFakeEvotorCloud({ pageSize: 2, bulkPolls: 1 })
 * ```
 */
export interface FakeEvotorCloudOptions {
  /** Items per page when the request gives no `limit`; 100 by default. */
  pageSize?: number
  /** Polls of `GET /bulks/{id}` before a task is final (the first answers RUNNING); 2 by default. */
  bulkPolls?: number
  /** The publisher's app id and access key; generated unless given. */
  publisher?: { appId?: string; token?: string }
}

/**
 * A configured fault: the next `times` requests that match answer `status` (with `headers` and
 * `body`), after `delayMs`; `drop` closes the connection without an answer instead.
 *
 * @example
 * ```ts
 * cloud.fail({ method: 'GET', path: '/stores', status: 429, headers: { 'retry-after': '1' }, times: 2 })
 * ```
 */
export interface FakeCloudFault {
  method?: string
  /** A path prefix, or a pattern tested against path and query. */
  path?: string | RegExp
  status?: number
  headers?: Record<string, string>
  body?: unknown
  /** Wait this long before answering (a slow answer); with no `status` the real answer follows. */
  delayMs?: number
  /** Close the socket without answering (a network error). */
  drop?: boolean
  /** How many requests the fault applies to; 1 by default. */
  times?: number
  /** Let this many matching requests through first (fail the third page: `after: 2`). */
  after?: number
}

/**
 * A request the fake received (the token itself is not recorded).
 *
 * @example
 * ```ts
 * expect(cloud.requests.filter((r) => r.method === 'POST')).toHaveLength(1)
 * ```
 */
export interface FakeCloudRequest {
  method: string
  path: string
  query: Record<string, string>
  auth: 'bearer' | 'x-authorization' | 'none'
  contentType: string | undefined
  userId: string | undefined
  status: number
}

/**
 * Entities to seed one user's data with (snake_case, as the REST API has them).
 *
 * @example
 * ```ts
 * cloud.seed(user.userId, { stores: [store], documents: [buildCloudDocument({ storeId: store.id, deviceId })] })
 * ```
 */
export interface FakeCloudSeed {
  stores?: CloudStore[]
  devices?: CloudDevice[]
  employees?: CloudEmployee[]
  /** Each document's `store_id` names its store. */
  documents?: CloudDocument[]
  /** Products per store id. */
  products?: Record<string, CloudProduct[]>
  productGroups?: Record<string, CloudProduct[]>
}

/**
 * A running fake Evotor cloud. Point the client's `baseUrl` at `url`.
 *
 * @example
 * ```ts
 * const cloud = await createFakeEvotorCloud()
 * const user = cloud.addUser()
 * const client = createEvotorClient({ token: user.token, baseUrl: cloud.url })
 * await cloud.close()
 * ```
 */
export interface FakeEvotorCloud {
  readonly url: string
  readonly appId: string
  readonly publisherToken: string
  /** Every request received, oldest first. */
  readonly requests: FakeCloudRequest[]
  /** Registers a user and a cloud token; all scopes unless `scopes` is given. */
  addUser(options?: { userId?: string; token?: string; scopes?: readonly string[] }): {
    userId: string
    token: string
  }
  /** Makes a token unknown (the next call with it answers 401). */
  revokeToken(token: string): void
  /** Adds entities to one user's data (copies; later changes to the objects are not seen). */
  seed(userId: string, data: FakeCloudSeed): void
  /** One user's products (or product groups) of one store, as stored now. */
  products(userId: string, storeId: string, collection?: 'products' | 'product-groups'): CloudProduct[]
  /** A bulk task as stored now, with its items. */
  bulk(id: string): (BulkTask & { items: unknown[] }) | undefined
  /** Items for which `check` returns a message fail in their bulk task with that message. */
  failBulkItems(check: ((item: Record<string, unknown>) => string | undefined) | undefined): void
  /** Adds a fault; faults are matched in the order they were added. */
  fail(fault: FakeCloudFault): void
  /** Drops every fault not yet used up. */
  clearFaults(): void
  /** Adds an event to the publisher feed; `id` and `timestamp` are generated unless given. */
  publishEvent(event: {
    type: string
    action: string
    payload: unknown
    source?: string
    id?: string
    timestamp?: number
  }): PublisherEvent
  /** Stops the server and cuts its connections. */
  close(): Promise<void>
}

interface UserData {
  userId: string
  stores: Map<string, CloudStore>
  devices: Map<string, CloudDevice>
  employees: Map<string, CloudEmployee>
  documents: Map<string, CloudDocument[]>
  catalogue: Map<string, Map<string, CloudProduct>>
}

interface StoredBulk extends BulkTask {
  items: Record<string, unknown>[]
  userId: string
  storeId: string
  collection: string
  polls: number
}

interface State {
  pageSize: number
  bulkPolls: number
  appId: string
  publisherToken: string
  tokens: Map<string, { userId: string; scopes: Set<string> }>
  users: Map<string, UserData>
  bulks: Map<string, StoredBulk>
  events: PublisherEvent[]
  pushes: Map<string, { id: string; status: string; devices: string[]; polls: number }>
  faults: Array<FakeCloudFault & { left: number; skip: number }>
  failItem: ((item: Record<string, unknown>) => string | undefined) | undefined
  requests: FakeCloudRequest[]
}

interface Req {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  contentType: string | undefined
}

interface Answer {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

const BODY_LIMIT = 10 * 1024 * 1024
const V2 = 'application/vnd.evotor.v2+json'
const BULK = 'application/vnd.evotor.v2+bulk+json'

const error = (status: number, code: string, message: string, violations?: unknown[]): Answer => ({
  status,
  body: { code, message, ...(violations === undefined ? {} : { violations }) },
})

const notFound = (what: string): Answer => error(404, 'not_found', `${what} not found`)

function userData(state: State, userId: string): UserData {
  let data = state.users.get(userId)
  if (data === undefined) {
    data = {
      userId,
      stores: new Map(),
      devices: new Map(),
      employees: new Map(),
      documents: new Map(),
      catalogue: new Map(),
    }
    state.users.set(userId, data)
  }
  return data
}

function catalogueOf(data: UserData, storeId: string, collection: string): Map<string, CloudProduct> {
  const key = `${collection} ${storeId}`
  let items = data.catalogue.get(key)
  if (items === undefined) {
    items = new Map()
    data.catalogue.set(key, items)
  }
  return items
}

// Cursors are opaque to the client: the offset and the filters of the first request, so that the
// next page needs the cursor alone (evotor-cloud-api.md §1 "Paging").
const encodeCursor = (offset: number, filters: Record<string, string>): string =>
  Buffer.from(JSON.stringify({ o: offset, f: filters })).toString('base64url')

function decodeCursor(cursor: string): { o: number; f: Record<string, string> } | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      o?: unknown
      f?: unknown
    }
    if (typeof value.o !== 'number' || !Number.isInteger(value.o) || value.o < 0) return undefined
    if (typeof value.f !== 'object' || value.f === null) return undefined
    return { o: value.o, f: value.f as Record<string, string> }
  } catch {
    return undefined
  }
}

/** Pages `all` (after `filter`) by the request's cursor or filters. */
function page<T>(
  state: State,
  req: Req,
  filterNames: readonly string[],
  select: (filters: Record<string, string>) => T[] | Answer,
): Answer {
  const cursor = req.query.get('cursor')
  let offset = 0
  let filters: Record<string, string> = {}
  let limit = state.pageSize
  if (cursor !== null) {
    if ([...req.query.keys()].some((key) => key !== 'cursor')) {
      return error(400, 'invalid_request', 'the next page is asked for with cursor alone')
    }
    const decoded = decodeCursor(cursor)
    if (decoded === undefined) return error(400, 'invalid_cursor', 'cursor is not valid')
    offset = decoded.o
    filters = decoded.f
  } else {
    for (const name of [...filterNames, 'limit']) {
      const value = req.query.get(name)
      if (value !== null) filters[name] = value
    }
  }
  if (filters.limit !== undefined) {
    limit = Number(filters.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return error(400, 'invalid_request', 'limit must be 1..1000', [
        { reason: 'incorrect', subject: 'limit' },
      ])
    }
  }
  const all = select(filters)
  if (!Array.isArray(all)) return all
  const items = all.slice(offset, offset + limit)
  const next = offset + limit < all.length ? encodeCursor(offset + limit, filters) : undefined
  return { status: 200, body: { items, paging: next === undefined ? {} : { next_cursor: next } } }
}

const epoch = (value: string | undefined): number | undefined | Answer => {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : error(400, 'invalid_request', 'since/until are epoch milliseconds')
}

function documentTime(doc: CloudDocument): number {
  const raw = doc.close_date ?? doc.created_at
  if (typeof raw !== 'string') return 0
  // As the library reads Evotor's date-times: no offset is UTC, years 0000-0099 are themselves.
  return isEvotorDateTime(raw) ? parseEvotorDateTime(raw).getTime() : 0
}

function listDocuments(state: State, data: UserData, storeId: string, req: Req): Answer {
  if (!data.stores.has(storeId)) return notFound('store')
  return page(state, req, ['since', 'until', 'type', 'types'], (filters) => {
    const since = epoch(filters.since)
    const until = epoch(filters.until)
    if (typeof since === 'object') return since
    if (typeof until === 'object') return until
    const typeFilter = filters.type ?? filters.types
    const types = typeFilter === undefined ? undefined : new Set(typeFilter.split(','))
    return (data.documents.get(storeId) ?? []).filter((doc) => {
      const time = documentTime(doc)
      return (
        (since === undefined || time >= since) &&
        (until === undefined || time < until) &&
        (types === undefined || types.has(doc.type))
      )
    })
  })
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function createBulk(state: State, data: UserData, storeId: string, collection: string, req: Req): Answer {
  if (!Array.isArray(req.body) || !req.body.every(isRecord)) {
    return error(400, 'invalid_request', 'a bulk body is an array of objects')
  }
  if (req.method === 'PUT') {
    // Every item of a bulk PUT must carry its id (undocumented; PHP SDK users hit it).
    const missing = req.body.findIndex((item) => typeof item.id !== 'string' || item.id === '')
    if (missing >= 0) {
      return error(400, 'validation_error', 'every item of a bulk PUT needs an id', [
        { reason: 'missing', subject: `[${missing}].id` },
      ])
    }
  }
  const id = randomUUID()
  const task: StoredBulk = {
    id,
    status: 'ACCEPTED',
    type: `${collection}-${req.method === 'PUT' ? 'upsert' : 'create'}`,
    modified_at: new Date().toISOString(),
    items: req.body,
    userId: data.userId,
    storeId,
    collection,
    polls: 0,
  }
  state.bulks.set(id, task)
  return { status: 202, body: { id, status: 'ACCEPTED', modified_at: task.modified_at } }
}

function advanceBulk(state: State, task: StoredBulk): void {
  if (task.status !== 'ACCEPTED' && task.status !== 'RUNNING') return
  task.polls += 1
  task.modified_at = new Date().toISOString()
  if (task.polls < state.bulkPolls) {
    task.status = 'RUNNING'
    return
  }
  const items = catalogueOf(userData(state, task.userId), task.storeId, task.collection)
  const details = task.items.map((item) => {
    const id = typeof item.id === 'string' && item.id !== '' ? item.id : randomUUID()
    const problem =
      typeof item.name !== 'string' || item.name === '' ? 'name is required' : state.failItem?.(item)
    if (problem !== undefined) return { id, status: 'FAILED', code: 'validation_error', message: problem }
    items.set(id, { ...item, id } as CloudProduct)
    return { id, status: 'COMPLETED' }
  })
  task.details = details
  task.status = details.every((d) => d.status === 'COMPLETED') ? 'COMPLETED' : 'FAILED'
}

const publicBulk = (task: StoredBulk): BulkTask => {
  const {
    items: _items,
    userId: _user,
    storeId: _store,
    collection: _collection,
    polls: _polls,
    ...rest
  } = task
  return rest
}

function catalogueRoute(
  state: State,
  data: UserData,
  storeId: string,
  collection: string,
  itemId: string | undefined,
  req: Req,
): Answer {
  if (!data.stores.has(storeId)) return notFound('store')
  const items = catalogueOf(data, storeId, collection)
  if (itemId === undefined) {
    if (req.method === 'GET') return page(state, req, [], () => [...items.values()])
    if (req.contentType === BULK && (req.method === 'POST' || req.method === 'PUT')) {
      return createBulk(state, data, storeId, collection, req)
    }
    if (req.method === 'POST') {
      if (!isRecord(req.body) || typeof req.body.name !== 'string' || req.body.name === '') {
        return error(400, 'validation_error', 'name is required', [{ reason: 'missing', subject: 'name' }])
      }
      const id = typeof req.body.id === 'string' && req.body.id !== '' ? req.body.id : randomUUID()
      if (items.has(id)) return error(409, 'already_exists', 'an item with this id exists')
      const created = { ...req.body, id, created_at: new Date().toISOString() } as CloudProduct
      items.set(id, created)
      return { status: 201, body: created }
    }
    if (req.method === 'DELETE') {
      const ids = (req.query.get('id') ?? '').split(',').filter((id) => id !== '')
      if (ids.length === 0)
        return error(400, 'invalid_request', 'id is required', [{ reason: 'missing', subject: 'id' }])
      for (const id of ids) items.delete(id)
      return { status: 204 }
    }
    if (req.method === 'PUT') return error(415, 'unsupported_media_type', `a bulk PUT is sent as ${BULK}`)
    return { status: 405, body: {} }
  }
  const current = items.get(itemId)
  if (req.method === 'GET')
    return current === undefined ? notFound('product') : { status: 200, body: current }
  if (req.method === 'DELETE') {
    if (current === undefined) return notFound('product')
    items.delete(itemId)
    return { status: 204 }
  }
  if (req.method === 'PUT' || req.method === 'PATCH') {
    if (!isRecord(req.body)) return error(400, 'invalid_request', 'the body is an object')
    if (req.method === 'PATCH' && current === undefined) return notFound('product')
    const next = { ...(req.method === 'PATCH' ? current : {}), ...req.body, id: itemId } as CloudProduct
    if (typeof next.name !== 'string' || next.name === '') {
      return error(400, 'validation_error', 'name is required', [{ reason: 'missing', subject: 'name' }])
    }
    items.set(itemId, { ...next, updated_at: new Date().toISOString() })
    return { status: 200, body: items.get(itemId) }
  }
  return { status: 405, body: {} }
}

const SCOPES: Array<[RegExp, string, string]> = [
  [/^\/stores\/[^/]+\/documents/, 'document:read', 'document:read'],
  [/^\/stores\/[^/]+\/product-groups/, 'product-group:read', 'product-group:write'],
  [/^\/stores\/[^/]+\/products/, 'product:read', 'product:write'],
  [/^\/stores/, 'store:read', 'store:read'],
  [/^\/devices/, 'device:read', 'device:read'],
  [/^\/employees/, 'employee:read', 'employee:read'],
  [/^\/bulks/, 'product:read', 'product:read'],
]

function scopeOf(method: string, path: string): string | undefined {
  for (const [pattern, read, write] of SCOPES) if (pattern.test(path)) return method === 'GET' ? read : write
  return undefined
}

function byStore<T extends { store_id?: string | null | undefined; stores?: string[] | null | undefined }>(
  state: State,
  req: Req,
  all: Iterable<T>,
): Answer {
  return page(state, req, ['store_id'], (filters) =>
    [...all].filter(
      (item) =>
        filters.store_id === undefined ||
        item.store_id === filters.store_id ||
        (item.stores ?? []).includes(filters.store_id),
    ),
  )
}

function cloudRoute(state: State, data: UserData, req: Req): Answer {
  const parts = req.path.split('/').slice(1).map(decodeSegment)
  if (parts.includes(undefined))
    return error(400, 'invalid_request', 'the path is not valid percent-encoding')
  const [first, second, third, fourth, ...rest] = parts
  if (rest.length > 0) return notFound('route')
  const get = req.method === 'GET'
  if (first === 'stores' && third === undefined) {
    if (!get) return { status: 405, body: {} }
    if (second === undefined) return page(state, req, [], () => [...data.stores.values()])
    const store = data.stores.get(second)
    return store === undefined ? notFound('store') : { status: 200, body: store }
  }
  if (first === 'stores' && second !== undefined && third === 'documents') {
    if (!get) return { status: 405, body: {} }
    if (fourth === undefined) return listDocuments(state, data, second, req)
    const doc = data.stores.has(second) ? data.documents.get(second)?.find((d) => d.id === fourth) : undefined
    return doc === undefined ? notFound('document') : { status: 200, body: doc }
  }
  if (first === 'stores' && second !== undefined && (third === 'products' || third === 'product-groups')) {
    return catalogueRoute(state, data, second, third, fourth, req)
  }
  if ((first === 'devices' || first === 'employees') && third === undefined) {
    if (!get) return { status: 405, body: {} }
    const all = first === 'devices' ? data.devices : data.employees
    if (second === undefined) return byStore(state, req, all.values())
    const item = all.get(second)
    return item === undefined ? notFound(first.slice(0, -1)) : { status: 200, body: item }
  }
  if (first === 'bulks' && third === undefined) {
    if (!get) return { status: 405, body: {} }
    const mine = [...state.bulks.values()].filter((task) => task.userId === data.userId)
    if (second === undefined) {
      for (const task of mine) advanceBulk(state, task)
      return page(state, req, [], () => mine.map(publicBulk))
    }
    const task = mine.find((t) => t.id === second)
    if (task === undefined) return notFound('bulk')
    advanceBulk(state, task)
    return { status: 200, body: publicBulk(task) }
  }
  return notFound('route')
}

function publisherRoute(state: State, req: Req): Answer {
  const match = /^\/api\/apps\/([^/]+)\/(events|push-notifications)(?:\/([^/]+))?$/.exec(req.path)
  if (match === null || decodeSegment(match[1] ?? '') !== state.appId) return notFound('route')
  const [, , kind, id] = match
  if (kind === 'events') {
    if (req.method !== 'GET' || id !== undefined) return { status: 405, body: {} }
    return page(state, req, ['since', 'until', 'type', 'types'], (filters) => {
      const since = epoch(filters.since)
      const until = epoch(filters.until)
      if (typeof since === 'object') return since
      if (typeof until === 'object') return until
      const typeFilter = filters.type ?? filters.types
      const types = typeFilter === undefined ? undefined : new Set(typeFilter.split(','))
      return state.events.filter((event) => {
        const time = Number(event.timestamp)
        return (
          (since === undefined || time >= since) &&
          (until === undefined || time < until) &&
          (types === undefined || types.has(event.type))
        )
      })
    })
  }
  if (id === undefined) {
    if (req.method !== 'POST') return { status: 405, body: {} }
    const body = req.body
    if (!isRecord(body) || !Array.isArray(body.devices) || body.devices.length === 0) {
      return error(400, 'invalid_request', 'devices is required', [{ reason: 'missing', subject: 'devices' }])
    }
    const push = { id: randomUUID(), status: 'ACCEPTED', devices: body.devices.map(String), polls: 0 }
    state.pushes.set(push.id, push)
    return { status: 202, body: { id: push.id, status: push.status } }
  }
  if (req.method !== 'GET') return { status: 405, body: {} }
  const push = state.pushes.get(id)
  if (push === undefined) return notFound('push notification')
  push.polls += 1
  push.status = 'COMPLETED'
  return {
    status: 200,
    body: {
      id: push.id,
      status: push.status,
      devices: push.devices.map((d) => ({ device_id: d, status: 'DELIVERED' })),
    },
  }
}

function credentialOf(req: IncomingMessage): { token: string | undefined; auth: FakeCloudRequest['auth'] } {
  const bearer = req.headers.authorization
  if (typeof bearer === 'string') {
    const m = /^bearer\s+(.+)$/i.exec(bearer.trim())
    return { token: m?.[1], auth: 'bearer' }
  }
  const legacy = req.headers['x-authorization']
  if (typeof legacy === 'string')
    return { token: legacy.replace(/^bearer\s+/i, '').trim(), auth: 'x-authorization' }
  return { token: undefined, auth: 'none' }
}

function takeFault(state: State, method: string, pathAndQuery: string): FakeCloudFault | undefined {
  for (const fault of state.faults) {
    if (fault.left <= 0) continue
    if (fault.method !== undefined && fault.method.toUpperCase() !== method) continue
    const path = fault.path
    if (
      path !== undefined &&
      !(typeof path === 'string' ? pathAndQuery.startsWith(path) : path.test(pathAndQuery))
    ) {
      continue
    }
    if (fault.skip > 0) {
      fault.skip -= 1
      continue
    }
    fault.left -= 1
    return fault
  }
  return undefined
}

async function readRequestBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > BODY_LIMIT) return 'too large'
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function send(res: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = {
    'x-ratelimit-limit': '1000',
    'x-ratelimit-remaining': '999',
    'x-ratelimit-reset': '60',
    ...answer.headers,
  }
  if (answer.body === undefined || answer.status === 204) {
    res.writeHead(answer.status, headers).end()
    return
  }
  const text = JSON.stringify(answer.body)
  headers['content-type'] ??= V2
  res.writeHead(answer.status, headers).end(text)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function handle(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake')
  const method = (req.method ?? 'GET').toUpperCase()
  const { token, auth } = credentialOf(req)
  const user = token === undefined ? undefined : state.tokens.get(token)
  const record: FakeCloudRequest = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    auth,
    contentType: req.headers['content-type'],
    userId: user?.userId,
    status: 0,
  }
  state.requests.push(record)
  const reply = (answer: Answer): void => {
    record.status = answer.status
    send(res, answer)
  }
  const fault = takeFault(state, method, `${url.pathname}${url.search}`)
  if (fault?.delayMs !== undefined) await sleep(fault.delayMs)
  if (fault?.drop) {
    req.socket.destroy()
    return
  }
  if (fault?.status !== undefined) {
    reply({
      status: fault.status,
      body: fault.body ?? defaultFaultBody(fault.status),
      headers: fault.headers ?? {},
    })
    return
  }
  const raw = await readRequestBody(req)
  if (raw === 'too large') {
    reply({ ...error(413, 'payload_too_large', 'the body is over 10 MB'), headers: { connection: 'close' } })
    return
  }
  let body: unknown
  if (raw.length > 0) {
    try {
      body = parseJsonBody(raw)
    } catch {
      reply(error(400, 'invalid_json', 'the body is not JSON'))
      return
    }
  }
  const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  const request: Req = { method, path: url.pathname, query: url.searchParams, body, contentType }
  const publisher = url.pathname.startsWith('/api/apps/')
  if (publisher) {
    reply(
      token !== undefined && token === state.publisherToken ? publisherRoute(state, request) : unauthorized(),
    )
    return
  }
  if (user === undefined) {
    reply(unauthorized())
    return
  }
  const scope = scopeOf(method, url.pathname)
  if (scope !== undefined && !user.scopes.has(scope)) {
    reply(error(403, 'forbidden', `the token lacks the scope ${scope}`))
    return
  }
  reply(cloudRoute(state, userData(state, user.userId), request))
}

const unauthorized = (): Answer => error(401, 'unauthorized', 'the token is not valid')

function defaultFaultBody(status: number): unknown {
  if (status === 401) return { code: 'unauthorized', message: 'the token is not valid' }
  if (status === 403) return { code: 'forbidden', message: 'missing scope' }
  if (status === 429) return { code: 'too_many_requests', message: 'rate limit exceeded' }
  return { code: 'server_error', message: `status ${status}` }
}

function checkOptions(options: FakeEvotorCloudOptions): void {
  const positive = (value: unknown, name: string): void => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
      throw new TypeError(`createFakeEvotorCloud: options.${name} must be a positive integer`)
    }
  }
  positive(options.pageSize, 'pageSize')
  positive(options.bulkPolls, 'bulkPolls')
}

/**
 * Starts a fake Evotor cloud on `127.0.0.1` (a free port): the REST API v2 (stores, terminals,
 * employees, documents, products, product groups, bulk tasks) and the publisher API (events feed,
 * push notifications), seeded per user, with configurable faults.
 *
 * @param options - page size, bulk task speed, publisher credentials.
 * @returns the running fake; `close()` it after the tests.
 * @throws TypeError naming the option, when an option is malformed.
 * @example
 * ```ts
 * import { buildCloudStore, createFakeEvotorCloud } from 'evotor-partner/testing'
 *
 * const cloud = await createFakeEvotorCloud({ pageSize: 2 })
 * const { userId, token } = cloud.addUser()
 * cloud.seed(userId, { stores: [buildCloudStore()] })
 * cloud.fail({ path: '/stores', status: 429, headers: { 'retry-after': '1' } })
 * ```
 */
export async function createFakeEvotorCloud(options: FakeEvotorCloudOptions = {}): Promise<FakeEvotorCloud> {
  checkOptions(options)
  const state: State = {
    pageSize: options.pageSize ?? 100,
    bulkPolls: options.bulkPolls ?? 2,
    appId: options.publisher?.appId ?? randomUUID(),
    publisherToken: options.publisher?.token ?? randomToken(),
    tokens: new Map(),
    users: new Map(),
    bulks: new Map(),
    events: [],
    pushes: new Map(),
    faults: [],
    failItem: undefined,
    requests: [],
  }
  const server: Server = createServer((req, res) => {
    handle(state, req, res).catch(() => {
      if (!res.headersSent) send(res, error(500, 'fake_cloud_error', 'the fake cloud failed'))
      else res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    appId: state.appId,
    publisherToken: state.publisherToken,
    requests: state.requests,
    addUser(user = {}) {
      const userId = user.userId ?? randomUserId()
      const token = user.token ?? randomToken()
      state.tokens.set(token, { userId, scopes: new Set(user.scopes ?? FAKE_CLOUD_SCOPES) })
      userData(state, userId)
      return { userId, token }
    },
    revokeToken(token) {
      state.tokens.delete(token)
    },
    seed(userId, data) {
      const user = userData(state, userId)
      for (const store of data.stores ?? []) user.stores.set(store.id, structuredClone(store))
      for (const device of data.devices ?? []) user.devices.set(device.id, structuredClone(device))
      for (const employee of data.employees ?? []) user.employees.set(employee.id, structuredClone(employee))
      for (const doc of data.documents ?? []) {
        const storeId = doc.store_id ?? ''
        const list = user.documents.get(storeId) ?? []
        list.push(structuredClone(doc))
        list.sort((a, b) => documentTime(a) - documentTime(b))
        user.documents.set(storeId, list)
      }
      for (const [collection, byStoreId] of [
        ['products', data.products],
        ['product-groups', data.productGroups],
      ] as const) {
        for (const [storeId, items] of Object.entries(byStoreId ?? {})) {
          const target = catalogueOf(user, storeId, collection)
          for (const item of items) target.set(item.id, structuredClone(item))
        }
      }
    },
    products(userId, storeId, collection = 'products') {
      return [...catalogueOf(userData(state, userId), storeId, collection).values()]
    },
    bulk(id) {
      const task = state.bulks.get(id)
      return task === undefined ? undefined : { ...publicBulk(task), items: task.items }
    },
    failBulkItems(check) {
      state.failItem = check
    },
    fail(fault) {
      state.faults.push({ ...fault, left: fault.times ?? 1, skip: fault.after ?? 0 })
    },
    clearFaults() {
      state.faults.length = 0
    },
    publishEvent(event) {
      const stored: PublisherEvent = {
        ...event,
        id: event.id ?? randomUUID(),
        timestamp: event.timestamp ?? Date.now(),
      }
      state.events.push(stored)
      return stored
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
