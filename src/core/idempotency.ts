import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { EVOTOR_ROUTES, type EvotorRouteDefinition, type RouteName } from '../protocol/routes.js'

/**
 * What {@link IdempotencyStore.claim} found: the key is now ours (`'claimed'`), was already
 * handled (`'done'`), or another delivery holds an unexpired lease on it (`'in-progress'`).
 *
 * @example
 * ```ts
 * import type { ClaimResult } from 'evotor-partner'
 * const result: ClaimResult = await store.claim('installation:a99fbf70-6307-4acc-b61c-741ee9eef6c0', 60_000)
 * ```
 */
export type ClaimResult = 'claimed' | 'done' | 'in-progress'

/**
 * Where the dispatcher remembers which webhook notifications were handled (protocol §5.1: the
 * Evotor cloud delivers at least once, re-sends every minute until it gets `200`, and may send
 * duplicates concurrently). Implement it on your database to share it between processes; the
 * default is an in-memory LRU store.
 *
 * @example
 * ```ts
 * import type { IdempotencyStore } from 'evotor-partner'
 * // SQLite: CREATE TABLE idem (key TEXT PRIMARY KEY, done INTEGER NOT NULL, lease_until INTEGER)
 * const store: IdempotencyStore = {
 *   claim(key, leaseMs) {
 *     const now = Date.now()
 *     return db.transaction(() => {
 *       const row = db.prepare('SELECT done, lease_until FROM idem WHERE key = ?').get(key)
 *       if (row?.done) return 'done'
 *       if (row && row.lease_until > now) return 'in-progress'
 *       db.prepare('INSERT OR REPLACE INTO idem (key, done, lease_until) VALUES (?, 0, ?)').run(key, now + leaseMs)
 *       return 'claimed'
 *     })()
 *   },
 *   complete(key) { db.prepare('UPDATE idem SET done = 1, lease_until = NULL WHERE key = ?').run(key) },
 *   release(key) { db.prepare('DELETE FROM idem WHERE key = ? AND done = 0').run(key) },
 * }
 * ```
 */
export interface IdempotencyStore {
  /** Atomically: key completed -> 'done'; claimed by someone whose lease has not expired -> 'in-progress'; otherwise claim it for leaseMs -> 'claimed'. */
  claim(key: string, leaseMs: number): ClaimResult | Promise<ClaimResult>
  /** The handler succeeded: remember the key as done. */
  complete(key: string): void | Promise<void>
  /** The handler failed: forget the claim so that the retry runs it again. */
  release(key: string): void | Promise<void>
}

/**
 * Options of {@link createMemoryIdempotencyStore}.
 *
 * @example
 * ```ts
 * const options: MemoryIdempotencyStoreOptions = { max: 10_000, ttl: 3 * 24 * 60 * 60_000 }
 * const store = createMemoryIdempotencyStore(options)
 * ```
 */
export interface MemoryIdempotencyStoreOptions {
  /** How many keys are remembered at most (least recently used are forgotten first). Default `100_000`. */
  max?: number
  /** How long a done key is remembered, in ms. Default 7 days (Evotor retries for 3 days, protocol §6.5). */
  ttl?: number
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number
}

/**
 * The in-memory {@link IdempotencyStore}: single process only, forgotten on restart.
 *
 * @example
 * ```ts
 * const store = createMemoryIdempotencyStore()
 * store.claim('installation:a99fbf70-6307-4acc-b61c-741ee9eef6c0', 60_000) // 'claimed'
 * store.size // 1
 * ```
 */
export interface MemoryIdempotencyStore extends IdempotencyStore {
  claim(key: string, leaseMs: number): ClaimResult
  complete(key: string): void
  release(key: string): void
  /** Keys currently remembered (done and in progress). */
  readonly size: number
}

const DAY = 24 * 60 * 60_000

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

/**
 * `map.set(key, value)` that keeps `map` at `max` keys at most by first dropping the oldest
 * inserted one. A plain Map, not lru-cache: deleting lru-cache's last remaining entry clears it,
 * which fills arrays of length `max` (a 100,000-slot cache paid ~0.3 ms per delete).
 *
 * @internal
 *
 * @example
 * ```ts
 * const leases = new Map<string, number>()
 * setBounded(leases, 100_000, key, Date.now() + 60_000)
 * ```
 */
export function setBounded<K, V>(map: Map<K, V>, max: number, key: K, value: V): void {
  if (map.size >= max && !map.has(key)) {
    for (const oldest of map.keys()) {
      map.delete(oldest)
      break
    }
  }
  map.set(key, value)
}

function assertKey(where: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw new TypeError(`${where}: key must be a non-empty string`)
}

function assertLease(where: string, leaseMs: unknown): asserts leaseMs is number {
  if (!isPositiveFinite(leaseMs)) throw new TypeError(`${where}: leaseMs must be a positive number`)
}

/**
 * Creates the default {@link IdempotencyStore}: bounded by `max` keys (lru-cache), done keys
 * forgotten after `ttl`, and in-progress leases that expire after `leaseMs` so that a crashed
 * handler does not block its key forever.
 *
 * @example
 * ```ts
 * const store = createMemoryIdempotencyStore({ max: 50_000 })
 * const result = await runIdempotent(store, 'installation:a99fbf70-6307-4acc-b61c-741ee9eef6c0', async () => save(event))
 * ```
 */
export function createMemoryIdempotencyStore(
  options: MemoryIdempotencyStoreOptions = {},
): MemoryIdempotencyStore {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createMemoryIdempotencyStore: options must be an object')
  }
  const { max = 100_000, ttl = 7 * DAY, now = Date.now } = options
  if (!isPositiveInteger(max))
    throw new TypeError('createMemoryIdempotencyStore: max must be a positive integer')
  if (!isPositiveFinite(ttl))
    throw new TypeError('createMemoryIdempotencyStore: ttl must be a positive number of ms')
  if (typeof now !== 'function') throw new TypeError('createMemoryIdempotencyStore: now must be a function')

  const clock = { now: () => now() }
  // Only get/set on the hot path: lru-cache's delete of its last entry clears (fills) arrays of
  // length `max`, so the short-lived leases live in a plain Map instead.
  const done = new LRUCache<string, true>({ max, ttl: Math.ceil(ttl), perf: clock, ttlResolution: 0 })
  // Value: the time the lease expires. Bounded too: leases of crashed handlers are never released.
  const leases = new Map<string, number>()

  return {
    claim(key, leaseMs) {
      assertKey('IdempotencyStore.claim', key)
      assertLease('IdempotencyStore.claim', leaseMs)
      if (done.get(key) === true) return 'done'
      const t = now()
      const until = leases.get(key)
      if (until !== undefined && until > t) return 'in-progress'
      setBounded(leases, max, key, t + leaseMs)
      return 'claimed'
    },
    complete(key) {
      assertKey('IdempotencyStore.complete', key)
      leases.delete(key)
      done.set(key, true)
    },
    release(key) {
      assertKey('IdempotencyStore.release', key)
      leases.delete(key)
    },
    get size() {
      return done.size + leases.size
    },
  }
}

/**
 * Options of {@link runIdempotent}.
 *
 * @example
 * ```ts
 * const options: RunIdempotentOptions = { leaseMs: 30_000 }
 * ```
 */
export interface RunIdempotentOptions {
  /** How long the claim protects a running handler, in ms. Default `60_000`. */
  leaseMs?: number
}

/**
 * What {@link runIdempotent} did: ran the handler (`'ran'`, with its value), found the key done
 * (`'done'`: answer `200`), or found another delivery running it (`'in-progress'`: answer
 * non-`200` so that the Evotor cloud re-sends it later).
 *
 * @example
 * ```ts
 * const status = (o: IdempotentOutcome<unknown>) => (o.outcome === 'in-progress' ? 503 : 200)
 * ```
 */
export type IdempotentOutcome<T> =
  | { outcome: 'ran'; value: T }
  | { outcome: 'done' }
  | { outcome: 'in-progress' }

/**
 * Runs `fn` at most once per `key` across duplicate deliveries: claims the key, runs `fn`,
 * marks the key done. If `fn` throws, the claim is released and the error rethrown so that the
 * retry runs it again (protocol §5.1: nothing lost, nothing applied twice).
 *
 * @example
 * ```ts
 * const store = createMemoryIdempotencyStore()
 * const key = idempotencyKeyFor('installationEvent', body)
 * const result = key ? await runIdempotent(store, key, () => install(body)) : { outcome: 'ran', value: await install(body) }
 * if (result.outcome === 'in-progress') return { status: 503 } // the cloud re-sends within a minute
 * ```
 */
export async function runIdempotent<T>(
  store: IdempotencyStore,
  key: string,
  fn: () => Promise<T>,
  options: RunIdempotentOptions = {},
): Promise<IdempotentOutcome<T>> {
  if (typeof store !== 'object' || store === null || typeof store.claim !== 'function') {
    throw new TypeError('runIdempotent: store must implement IdempotencyStore')
  }
  assertKey('runIdempotent', key)
  if (typeof fn !== 'function') throw new TypeError('runIdempotent: fn must be a function')
  const { leaseMs = 60_000 } = options
  assertLease('runIdempotent', leaseMs)

  const claim = await store.claim(key, leaseMs)
  if (claim === 'done') return { outcome: 'done' }
  if (claim === 'in-progress') return { outcome: 'in-progress' }
  if (claim !== 'claimed') throw new TypeError(`runIdempotent: store.claim returned ${String(claim)}`)

  let value: T
  try {
    value = await fn()
  } catch (error) {
    try {
      await store.release(key)
    } catch {
      // The lease still expires after leaseMs; the handler's error is the one worth reporting.
    }
    throw error
  }
  // If complete() fails the error propagates (non-200) and the lease expires: at-least-once wins.
  await store.complete(key)
  return { outcome: 'ran', value }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * {@link runIdempotent} for the dispatcher, whose store and lease were checked once at construction:
 * the same steps in the same order, without a promise turn where the store answers synchronously
 * (the memory store does), and only the outcome.
 *
 * @internal
 */
export async function runIdempotentOutcome(
  store: IdempotencyStore,
  key: string,
  fn: () => Promise<unknown>,
  leaseMs: number,
): Promise<IdempotentOutcome<unknown>['outcome']> {
  assertKey('runIdempotent', key)
  const claimed = store.claim(key, leaseMs)
  const claim = isThenable(claimed) ? await claimed : claimed
  if (claim === 'done' || claim === 'in-progress') return claim
  if (claim !== 'claimed') throw new TypeError(`runIdempotent: store.claim returned ${String(claim)}`)
  try {
    await fn()
  } catch (error) {
    try {
      await store.release(key)
    } catch {
      // The lease still expires after leaseMs; the handler's error is the one worth reporting.
    }
    throw error
  }
  // If complete() fails the error propagates (non-200) and the lease expires: at-least-once wins.
  const completed = store.complete(key)
  if (isThenable(completed)) await completed
  return 'ran'
}

/**
 * Request-scoped values that take part in a key (the path's `storeUuid`, the authenticated user).
 *
 * @example
 * ```ts
 * const params: IdempotencyKeyParams = { storeUuid: '20170928-3176-40EB-80E2-A11F032E282A' }
 * ```
 */
export interface IdempotencyKeyParams {
  storeUuid?: string
  userId?: string
}

const SAFE_PART = /^[A-Za-z0-9_.@-]{1,128}$/

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A key part from an id: as is when short and plain, else `#` + its hash (no collisions, bounded length). */
function part(value: string | number): string {
  const text = String(value)
  return SAFE_PART.test(text) ? text : `#${sha256(text)}`
}

// The last user's part: one user's deliveries tend to come in a row, and `part` is a regexp test.
let lastUser: string | undefined
let lastUserPart = '~'

/** The user part of a key: `~` (never a plain part) when the request names no user. */
function userPart(userId: string | undefined): string {
  if (userId === undefined) return '~'
  if (userId !== lastUser) {
    lastUserPart = part(userId)
    lastUser = userId
  }
  return lastUserPart
}

/**
 * `<user>:<id>` with both parts escaped as in idempotency keys, so that two users' ids never
 * collide (design "Tenancy"): the dispatcher orders subscription events by this.
 *
 * @internal
 */
export function userScopedKey(userId: string | undefined, id: string): string {
  return `${userPart(userId)}:${part(id)}`
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/**
 * JSON with object keys sorted at every level, so that equal payloads hash alike whatever the
 * key order. Throws TypeError on cycles (parsed JSON never has any).
 */
function canonicalJson(value: unknown): string {
  const seen = new Set<object>()
  const walk = (v: unknown): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v)
    if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null'
    if (typeof v === 'bigint') return v.toString()
    if (typeof v !== 'object') return 'null'
    if (seen.has(v)) throw new TypeError('idempotencyKeyFor: body is cyclic')
    const json = (v as { toJSON?: unknown }).toJSON
    if (typeof json === 'function') return walk(json.call(v))
    seen.add(v)
    let out: string
    if (Array.isArray(v)) {
      out = `[${v.map(walk).join(',')}]`
    } else {
      const record = v as Record<string, unknown>
      const items: string[] = []
      for (const k of Object.keys(record).sort()) {
        const item = record[k]
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
        items.push(`${JSON.stringify(k)}:${walk(item)}`)
      }
      out = `{${items.join(',')}}`
    }
    seen.delete(v)
    return out
  }
  return walk(value)
}

function bodyHash(route: string, storeUuid: string | undefined, body: unknown): string {
  return sha256(canonicalJson([route, storeUuid?.toLowerCase() ?? null, body]))
}

/**
 * A sequence number as Evotor sends it: a safe integer, or a string of digits holding one. The one
 * parser of the concept: keys take any such number, ordering only those from 1 up.
 *
 * @internal
 */
export function parseSequenceNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined
}

function keyOf(
  route: RouteName,
  body: unknown,
  params: IdempotencyKeyParams,
  user: string,
): string | undefined {
  const { idempotency: rule, ordering } = EVOTOR_ROUTES[route] as EvotorRouteDefinition
  switch (rule.kind) {
    case 'none':
      return undefined
    case 'sequence': {
      const record = isRecord(body) && ordering !== undefined ? body : {}
      const id = ordering === undefined ? undefined : idOf(record[ordering.stream])
      const sequence = ordering === undefined ? undefined : parseSequenceNumber(record[ordering.sequence])
      if (id !== undefined && sequence !== undefined) return `${rule.prefix}:${user}:${part(id)}:${sequence}`
      return `${rule.prefix}:${user}:#${bodyHash(route, undefined, body)}`
    }
    case 'id': {
      // One object per the schema, "one or several" per the prose (protocol §6.12): a one-item array is that object.
      const single = Array.isArray(body) && body.length === 1 ? body[0] : body
      let id: string | undefined
      for (const field of rule.ids) id ??= isRecord(single) ? idOf(single[field]) : undefined
      return id === undefined
        ? `${rule.prefix}:${user}:#${bodyHash(route, undefined, body)}`
        : `${rule.prefix}:${user}:${part(id)}`
    }
    case 'content':
      return `${rule.prefix}:${user}:${bodyHash(route, params.storeUuid, body)}`
    case 'token': {
      const record = isRecord(body) ? body : {}
      const userId = idOf(record.userId) ?? params.userId
      const token = typeof record.token === 'string' ? record.token : ''
      return `${rule.prefix}:${part(userId ?? '')}:${sha256(token)}`
    }
  }
}

/**
 * The idempotency key of a webhook notification (protocol §5.1), made as the route's
 * `EVOTOR_ROUTES[route].idempotency` says, or `undefined` for routes that
 * are requests, not notifications (`userCreate`, `userVerify`, `commodities`), for the full-upsert
 * routes (`stores`, `devices`, `employees`, `products`: a re-delivery is harmless, and keying them by
 * content would drop a genuine change back to an earlier state) and for unknown routes. Keys never contain secrets (the `user/token` token is hashed) and stay short (long or
 * unusual ids are hashed, marked with `#`). `<user>` is `params.userId` (the verified user; `~`
 * when there is none), so one user's deliveries can never claim another's.
 *
 * | route | key |
 * |---|---|
 * | `subscriptionEvent` | `subscription:<user>:<subscriptionId>:<sequenceNumber>` |
 * | `installationEvent` | `installation:<user>:<id>` |
 * | `receipts` | `receipt:<user>:<event id>`, or `receipt:<user>:#<hash of the body>` without an id (arrays) |
 * | `documents` | `documents:<user>:<SHA-256 base64url of route, storeUuid, canonical JSON body>` |
 * | `stores`, `devices`, `employees`, `products` | none (`undefined`) |
 * | `userToken` | `user-token:<userId>:<SHA-256 base64url of the token>` |
 *
 * The upsert routes carry no event id: a byte-identical re-delivery is a duplicate. Note that a
 * genuine change back to an earlier identical state within the store's `ttl` looks the same; a
 * store can recognise these keys by their `<route>:` prefix and remember them for less time.
 *
 * @example
 * ```ts
 * idempotencyKeyFor('subscriptionEvent', { subscriptionId: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0', sequenceNumber: 4 }, { userId: '01-000000000000001' })
 * // 'subscription:01-000000000000001:a99fbf70-6307-4acc-b61c-741ee9eef6c0:4'
 * idempotencyKeyFor('documents', documents, { storeUuid }) // 'documents:3q2-…'
 * idempotencyKeyFor('userCreate', body) // undefined
 * ```
 */
export function idempotencyKeyFor(
  route: string,
  body: unknown,
  params: IdempotencyKeyParams = {},
): string | undefined {
  if (typeof route !== 'string') throw new TypeError('idempotencyKeyFor: route must be a string')
  if (!Object.hasOwn(EVOTOR_ROUTES, route)) return undefined
  // Every key names its user: one user's deliveries never claim or complete another's (design "Tenancy").
  return keyOf(route as RouteName, body, params, userPart(params.userId))
}
