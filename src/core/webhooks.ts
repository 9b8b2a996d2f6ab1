import type { z } from 'zod'
import type { UnknownInstallationEvent, UnknownSubscriptionEvent } from '../protocol/billing.js'
import {
  EVOTOR_ROUTES,
  type EvotorRouteDefinition,
  ROUTE_NAMES,
  type RouteCredential,
  type RouteName,
  type RouteRequest,
  type RouteResponse,
} from '../protocol/routes.js'
import { parseIncomingAsync, validateOutgoing } from '../protocol/validation.js'
import {
  type AppCredentialOptions,
  type AppCredentialVerifier,
  createAppCredentialVerifier,
} from './auth/app-credential.js'
import { type ParsedAuthorization, parseAuthorization } from './auth/authorization.js'
import type { UserTokenVerifier } from './auth/user-token-verifier.js'
import { EvotorError, type EvotorErrorItem, isEvotorError } from './evotor-error.js'
import { getHeader } from './headers.js'
import type { WebhookDispatcher, WebhookRequest, WebhookResponse } from './http-types.js'
import {
  createMemoryIdempotencyStore,
  type IdempotencyStore,
  idempotencyKeyFor,
  runIdempotent,
  userScopedKey,
} from './idempotency.js'
import { evotorErrorResponse, jsonResponse } from './responses.js'
import {
  bodyShapeProblem,
  MAX_BODY_DEPTH,
  MAX_INNER_ARRAY,
  parseJsonBody,
  sanitizeParsedBody,
} from './safe-json.js'
import { createSubscriptionSequencer, type SequenceStore } from './subscription-sequencer.js'
import { requestUser } from './tenancy.js'

/**
 * Which credential a route accepts.
 *
 * @example
 * ```ts
 * import { createEvotorWebhooks, type WebhookCredential } from 'evotor-partner'
 * const eventCredential: WebhookCredential = 'app' // billing events only with the app credential
 * const webhooks = createEvotorWebhooks({ appCredential, handlers, eventCredential })
 * ```
 */
export type WebhookCredential = RouteCredential

/**
 * The body a handler of route `N` receives. Events of an unknown `type` never reach the typed
 * handlers (they go to `unknownEvent`), so their open member is left out here.
 *
 * @example
 * ```ts
 * import type { WebhookBody } from 'evotor-partner'
 * const saveStores = async (userId: string, stores: WebhookBody<'stores'>) => db.upsertStores(userId, stores)
 * ```
 */
export type WebhookBody<N extends RouteName> = N extends 'subscriptionEvent' | 'installationEvent'
  ? Exclude<RouteRequest<N>, { type: 'Unknown' }>
  : RouteRequest<N>

/**
 * What a handler receives.
 *
 * @example
 * ```ts
 * import type { WebhookContext } from 'evotor-partner'
 * async function onStores({ userId, body }: WebhookContext<'stores'>): Promise<void> {
 *   await db.upsertStores(userId, body)
 * }
 * ```
 */
export interface WebhookContext<N extends RouteName> {
  /** The route name (`'stores'`, `'subscriptionEvent'` …). */
  route: N
  /** The validated, leniently parsed request (the query for `commodities`). */
  body: WebhookBody<N>
  /**
   * The Evotor user: from the verified user token when the request carried one, otherwise the
   * `userId` of the body (`data.userId` for installation events). Only `commodities` called with
   * the app credential has none.
   */
  userId: N extends 'commodities' ? string | undefined : string
  /** `{storeUuid}` of the path (products, documents), case kept. */
  storeUuid: string | undefined
  /** Which credential authorised the request. */
  credential: 'app' | 'user'
  /** The request as the adapter passed it (headers for logging, never log `authorization`). */
  request: WebhookRequest
}

/**
 * A handler for route `N`: typed from the route table; a wrong return shape does not compile.
 *
 * @example
 * ```ts
 * import type { WebhookHandler } from 'evotor-partner'
 * const stores: WebhookHandler<'stores'> = async ({ userId, body }) => {
 *   await db.upsertStores(userId, body)
 * }
 * ```
 */
export type WebhookHandler<N extends RouteName> = (
  context: WebhookContext<N>,
) => RouteResponse<N> | Promise<RouteResponse<N>>

/**
 * What the `unknownEvent` catch-all receives.
 *
 * @example
 * ```ts
 * import type { UnknownEventContext } from 'evotor-partner'
 * const unknownEvent = (context: UnknownEventContext) => {
 *   if (context.reason === 'invalid') logger.warn('bad event', { errors: context.errors })
 * }
 * ```
 */
export type UnknownEventContext = {
  route: 'subscriptionEvent' | 'installationEvent'
  /** The Evotor user named by the token or the event, when there is one. */
  userId: string | undefined
  request: WebhookRequest
} & (
  | {
      /** An event `type` this library does not know (protocol §11 A20); `event.rawType` is what Evotor sent. */
      reason: 'unknown-type'
      event: UnknownSubscriptionEvent | UnknownInstallationEvent
      errors: readonly []
    }
  | {
      /**
       * A documented event that fails its schema. The event routes may only answer 200 (protocol
       * §5.3): a 400 would be retried for three days with the same payload, so it is acknowledged
       * and handed over here as Evotor sent it.
       */
      reason: 'invalid'
      event: Record<string, unknown>
      /** What is wrong, as Evotor error items (2002 missing / 2003 incorrect, with `subject`). */
      errors: readonly EvotorErrorItem[]
    }
)

/**
 * A catch-all for subscription/installation events that the typed handlers cannot take: an
 * unknown `type`, or a documented type that breaks its schema. They are acknowledged with 200
 * (after this handler succeeds), in `sequenceNumber` order like every subscription event.
 *
 * @example
 * ```ts
 * import type { UnknownEventHandler } from 'evotor-partner'
 * const unknownEvent: UnknownEventHandler = ({ route, reason }) => console.warn(`${route}: ${reason} event`)
 * ```
 */
export type UnknownEventHandler = (context: UnknownEventContext) => void | Promise<void>

/**
 * Handlers by route name.
 *
 * @example
 * ```ts
 * import type { EvotorWebhookHandlers } from 'evotor-partner'
 * const handlers: EvotorWebhookHandlers = {
 *   stores: async ({ userId, body }) => { await db.upsertStores(userId, body) },
 * }
 * ```
 */
export type EvotorWebhookHandlers = { [N in RouteName]?: WebhookHandler<N> } & {
  /** Called for subscription/installation events of an unknown `type` or that fail their schema. */
  unknownEvent?: UnknownEventHandler
}

/**
 * The logger hook: any object with these methods (console, pino, a custom sink).
 *
 * @example
 * ```ts
 * import type { WebhookLogger } from 'evotor-partner'
 * const logger: WebhookLogger = console // or pino(): anything with warn() and error()
 * ```
 */
export interface WebhookLogger {
  /** Something worth a look that was still answered (a late handler, an unknown event type). */
  warn(message: string, fields?: Record<string, unknown>): void
  /** A handler failed; the request was answered 500. Fields never hold secrets. */
  error(message: string, fields?: Record<string, unknown>): void
}

/**
 * Options of {@link createEvotorWebhooks}.
 *
 * @example
 * ```ts
 * import { createEvotorWebhooks, type EvotorWebhooksOptions } from 'evotor-partner'
 * const options: EvotorWebhooksOptions = { appCredential: { bearer: token }, handlers, basePath: '/evotor' }
 * const webhooks = createEvotorWebhooks(options)
 * ```
 */
export interface EvotorWebhooksOptions {
  /** The partner app credential(s) typed into the developer portal (Basic pairs and/or Bearer tokens). */
  appCredential: AppCredentialOptions | AppCredentialVerifier
  /** Verifies partner user tokens (`createUserTokens()` or `createUserTokenLookup()`). */
  userTokens?: UserTokenVerifier
  handlers: EvotorWebhookHandlers
  /** Prefix of every default path, e.g. `'/evotor'`. */
  basePath?: string
  /** Per-route path overrides (full path, `:storeUuid` where the route has it; basePath is not added). */
  paths?: Partial<Record<RouteName, string>>
  /** Serve the legacy aliases of protocol §6.13 / §11 A45 too (`true` = all, or a list of routes). */
  legacyPaths?: boolean | readonly RouteName[]
  /** Credential for subscription and installation events (default `'app-or-user'`, protocol §11 A4). */
  eventCredential?: WebhookCredential
  /** Credential for `GET /api/v1/commodities` (default `'app-or-user'`, protocol §11 A5). */
  commoditiesCredential?: WebhookCredential
  /** De-duplication of notifications (default: an in-memory store); `false` turns it off. */
  idempotency?: IdempotencyStore | false
  /** How long a claimed delivery may run before another delivery of it may start again (default 60 s). */
  leaseMs?: number
  /** Ordering of subscription events by `sequenceNumber`; `false` turns it off. */
  ordering?: { store?: SequenceStore; holdMs?: number; gapTimeoutMs?: number } | false
  /** A handler running longer than this is reported to the logger (default 9000 ms; Evotor waits 10 s). */
  deadlineMs?: number
  /** What a notification without a handler answers: `'not-found'` (default, 404 so the cloud retries) or `'ack'` (200). */
  unhandledNotifications?: 'not-found' | 'ack'
  logger?: WebhookLogger
}

/**
 * The dispatcher: `handle()` answers one delivery; adapters in `evotor-partner/koa` etc. call it.
 *
 * @example
 * ```ts
 * import { createEvotorWebhooks, type EvotorWebhooks } from 'evotor-partner'
 * const webhooks: EvotorWebhooks = createEvotorWebhooks({ appCredential, userTokens, handlers })
 * for (const { name, method, paths } of webhooks.routes) console.log(name, method, paths.join(' '))
 * ```
 */
export interface EvotorWebhooks extends WebhookDispatcher {
  /** The resolved routes: name, method and every path served. */
  readonly routes: ReadonlyArray<{ name: RouteName; method: string; paths: readonly string[] }>
}

interface CompiledRoute {
  name: RouteName
  method: string
  credential: WebhookCredential
  kind: 'request' | 'notification'
  source: 'body' | 'query'
  request: z.ZodType
  response: z.ZodType | undefined
  userIds: EvotorRouteDefinition['userIds']
}

interface PathMatcher {
  route: CompiledRoute
  exact: string | undefined
  pattern: RegExp | undefined
}

const EVENT_ROUTES = new Set<RouteName>(['subscriptionEvent', 'installationEvent'])
const SILENT_LOGGER: WebhookLogger = { warn() {}, error() {} }

function normalisePath(path: string): string {
  const noQuery = path.split('?', 1)[0] ?? ''
  return noQuery.length > 1 && noQuery.endsWith('/') ? noQuery.slice(0, -1) : noQuery
}

function compilePath(path: string): { exact: string | undefined; pattern: RegExp | undefined } {
  const clean = normalisePath(path)
  if (!clean.includes(':')) return { exact: clean, pattern: undefined }
  const source = clean
    .split('/')
    .map((part) =>
      part.startsWith(':') ? '(?<storeUuid>[^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return { exact: undefined, pattern: new RegExp(`^${source}$`) }
}

function validateOptions(options: EvotorWebhooksOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createEvotorWebhooks: options must be an object')
  }
  const tokens: unknown = options.userTokens
  if (tokens !== undefined && typeof (tokens as { verify?: unknown } | null)?.verify !== 'function') {
    throw new TypeError(
      'createEvotorWebhooks: userTokens must be a user-token verifier with verify(token) (createUserTokens() or createUserTokenLookup())',
    )
  }
  if (typeof options.handlers !== 'object' || options.handlers === null) {
    throw new TypeError('createEvotorWebhooks: handlers must be an object of route handlers')
  }
  for (const [name, handler] of Object.entries(options.handlers)) {
    if (name !== 'unknownEvent' && !ROUTE_NAMES.includes(name as RouteName)) {
      throw new TypeError(
        `createEvotorWebhooks: handlers.${name} is not a route (known: ${ROUTE_NAMES.join(', ')})`,
      )
    }
    if (handler !== undefined && typeof handler !== 'function') {
      throw new TypeError(`createEvotorWebhooks: handlers.${name} must be a function`)
    }
  }
  if (options.basePath !== undefined && !/^(\/[^/?#]+)*\/?$/.test(options.basePath)) {
    throw new TypeError("createEvotorWebhooks: basePath must start with '/' (e.g. '/evotor')")
  }
  for (const [name, path] of Object.entries(options.paths ?? {})) {
    if (!ROUTE_NAMES.includes(name as RouteName)) {
      throw new TypeError(`createEvotorWebhooks: paths.${name} is not a route`)
    }
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError(`createEvotorWebhooks: paths.${name} must be a path starting with '/'`)
    }
  }
  for (const key of ['eventCredential', 'commoditiesCredential'] as const) {
    const value = options[key]
    if (value !== undefined && value !== 'app' && value !== 'user' && value !== 'app-or-user') {
      throw new TypeError(`createEvotorWebhooks: ${key} must be 'app', 'user' or 'app-or-user'`)
    }
  }
  const deadline = options.deadlineMs
  if (deadline !== undefined && (!Number.isFinite(deadline) || deadline <= 0)) {
    throw new TypeError('createEvotorWebhooks: deadlineMs must be a positive number of milliseconds')
  }
  const lease = options.leaseMs
  if (lease !== undefined && (!Number.isFinite(lease) || lease <= 0)) {
    throw new TypeError('createEvotorWebhooks: leaseMs must be a positive number of milliseconds')
  }
  const store = options.idempotency
  if (
    store !== undefined &&
    store !== false &&
    (typeof store !== 'object' ||
      store === null ||
      typeof store.claim !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.release !== 'function')
  ) {
    throw new TypeError(
      'createEvotorWebhooks: idempotency must be an IdempotencyStore (claim, complete, release) or false',
    )
  }
  const ordering = options.ordering
  if (ordering !== undefined && ordering !== false) {
    if (typeof ordering !== 'object' || ordering === null) {
      throw new TypeError('createEvotorWebhooks: ordering must be an object or false')
    }
    const { holdMs, gapTimeoutMs } = ordering
    if (holdMs !== undefined && (!Number.isFinite(holdMs) || holdMs < 0 || holdMs >= 10_000)) {
      throw new TypeError(
        'createEvotorWebhooks: ordering.holdMs must be from 0 to below 10000 ms (Evotor waits 10 s)',
      )
    }
    if (gapTimeoutMs !== undefined && (Number.isNaN(gapTimeoutMs) || gapTimeoutMs < 0)) {
      throw new TypeError('createEvotorWebhooks: ordering.gapTimeoutMs must be a non-negative number of ms')
    }
  }
  const unhandled = options.unhandledNotifications
  if (unhandled !== undefined && unhandled !== 'ack' && unhandled !== 'not-found') {
    throw new TypeError("createEvotorWebhooks: unhandledNotifications must be 'ack' or 'not-found'")
  }
}

function toVerifier(option: AppCredentialOptions | AppCredentialVerifier): AppCredentialVerifier {
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('createEvotorWebhooks: appCredential is required ({ bearer } and/or { basic })')
  }
  if ('verify' in option && typeof option.verify === 'function') return option as AppCredentialVerifier
  return createAppCredentialVerifier(option as AppCredentialOptions)
}

/**
 * Creates the framework-agnostic dispatcher for every request the Evotor cloud sends to a
 * partner (protocol §6): authentication per route, validation, typed handlers, Evotor error
 * answers, de-duplication of notifications and ordering of subscription events.
 *
 * @example
 * ```ts
 * const webhooks = createEvotorWebhooks({
 *   appCredential: { bearer: [process.env.EVOTOR_APP_TOKEN!] },
 *   userTokens: tokens,
 *   handlers: {
 *     userCreate: async ({ body }) => ({ userId: body.userId, token: await tokens.issue(body.userId) }),
 *     stores: async ({ userId, body }) => { await db.upsertStores(userId, body) },
 *   },
 * })
 * const answer = await webhooks.handle({ method: 'PUT', path: '/api/v1/inventories/stores', headers, body })
 * ```
 */
export function createEvotorWebhooks(options: EvotorWebhooksOptions): EvotorWebhooks {
  validateOptions(options)
  const appVerifier = toVerifier(options.appCredential)
  const handlers: EvotorWebhookHandlers = { ...options.handlers }
  const userTokens = options.userTokens
  const logger = options.logger ?? SILENT_LOGGER
  const deadlineMs = options.deadlineMs ?? 9000
  const leaseMs = options.leaseMs ?? 60_000
  const unhandled = options.unhandledNotifications ?? 'not-found'
  const idempotency =
    options.idempotency === false ? undefined : (options.idempotency ?? createMemoryIdempotencyStore())
  const sequencer =
    options.ordering === false ? undefined : createSubscriptionSequencer({ ...(options.ordering ?? {}) })
  const basePath = options.basePath === undefined ? '' : normalisePath(options.basePath).replace(/\/$/, '')
  const legacy = options.legacyPaths ?? false

  const matchers: PathMatcher[] = []
  const exactIndex = new Map<string, PathMatcher[]>()
  const resolved: Array<{ name: RouteName; method: string; paths: string[] }> = []

  for (const name of ROUTE_NAMES) {
    const def: EvotorRouteDefinition = EVOTOR_ROUTES[name]
    let credential: WebhookCredential = def.credential
    if (EVENT_ROUTES.has(name) && options.eventCredential !== undefined) credential = options.eventCredential
    if (name === 'commodities' && options.commoditiesCredential !== undefined) {
      credential = options.commoditiesCredential
    }
    if (credential === 'user' && handlers[name] !== undefined && userTokens === undefined) {
      throw new TypeError(
        `createEvotorWebhooks: userTokens is required because handlers.${name} accepts user tokens`,
      )
    }
    const route: CompiledRoute = {
      name,
      method: def.method,
      credential,
      kind: def.kind,
      source: def.source,
      request: def.request,
      response: def.response,
      userIds: def.userIds,
    }
    const paths = [options.paths?.[name] ?? `${basePath}${def.path}`]
    const wantsLegacy = legacy === true || (Array.isArray(legacy) && legacy.includes(name))
    if (wantsLegacy) for (const alias of def.legacyPaths ?? []) paths.push(`${basePath}${alias}`)
    for (const path of paths) {
      const compiled = compilePath(path)
      const matcher: PathMatcher = { route, ...compiled }
      matchers.push(matcher)
      if (compiled.exact !== undefined) {
        const list = exactIndex.get(compiled.exact) ?? []
        list.push(matcher)
        exactIndex.set(compiled.exact, list)
      }
    }
    resolved.push({ name, method: def.method, paths })
  }
  const patternMatchers = matchers.filter((m) => m.pattern !== undefined)

  function find(path: string): Array<{ route: CompiledRoute; storeUuid: string | undefined }> {
    const clean = normalisePath(path)
    const exact = exactIndex.get(clean)
    const found: Array<{ route: CompiledRoute; storeUuid: string | undefined }> = []
    if (exact !== undefined) for (const m of exact) found.push({ route: m.route, storeUuid: undefined })
    for (const m of patternMatchers) {
      const match = m.pattern?.exec(clean)
      if (match !== null && match !== undefined) {
        let storeUuid = match.groups?.storeUuid
        try {
          storeUuid = storeUuid === undefined ? undefined : decodeURIComponent(storeUuid)
        } catch {
          // Keep the raw segment: it is validated as an opaque id below.
        }
        found.push({ route: m.route, storeUuid })
      }
    }
    return found
  }

  function readAuthorization(request: WebhookRequest): ParsedAuthorization | undefined {
    const raw = getHeader(request.headers, 'authorization')
    return raw === undefined ? undefined : parseAuthorization(raw)
  }

  async function authenticate(
    route: CompiledRoute,
    request: WebhookRequest,
  ): Promise<{ credential: 'app' | 'user'; userId: string | undefined }> {
    let auth: ParsedAuthorization | undefined
    const fail = route.credential === 'user' ? EvotorError.invalidUserToken : EvotorError.invalidAppCredential
    try {
      auth = readAuthorization(request)
    } catch {
      throw fail()
    }
    if (auth === undefined) throw fail()
    if (route.credential !== 'user' && appVerifier.verify(auth))
      return { credential: 'app', userId: undefined }
    if (route.credential === 'app' || auth.scheme !== 'bearer' || userTokens === undefined) throw fail()
    try {
      const verified = await userTokens.verify(auth.token)
      return { credential: 'user', userId: verified.userId }
    } catch (error) {
      if (!isEvotorError(error)) throw error
      // On app-or-user routes a token that is neither credential is a bad app credential (protocol §11 A53).
      if (route.credential === 'app-or-user' && error.code === 1002) throw EvotorError.invalidAppCredential()
      throw error
    }
  }

  function readBody(route: CompiledRoute, request: WebhookRequest): unknown {
    if (route.source === 'query') {
      const query = request.query
      if (query instanceof URLSearchParams) return Object.fromEntries(query)
      const out: Record<string, string> = {}
      for (const [key, value] of Object.entries(query ?? {})) {
        if (typeof value === 'string') out[key] = value
        else if (Array.isArray(value) && typeof value[0] === 'string') out[key] = value[0]
      }
      return out
    }
    const body = request.body
    if (request.parsedBody === true) return sanitizeParsedBody(body)
    if (typeof body === 'string' || body instanceof Uint8Array) return parseJsonBody(body)
    if (body === undefined || body === null) throw EvotorError.syntax('body is empty')
    return sanitizeParsedBody(body)
  }

  /** Event bodies that failed their schema, acknowledged and passed to `unknownEvent`. */
  const invalidEvents = new WeakMap<object, readonly EvotorErrorItem[]>()

  async function parseBody(route: CompiledRoute, raw: unknown): Promise<WebhookBody<RouteName>> {
    try {
      // Refused before any recursive or per-element code runs (design "Hostile bodies").
      const problem = route.source === 'body' ? bodyShapeProblem(raw) : undefined
      if (problem?.kind === 'depth')
        throw EvotorError.syntax(`body nests deeper than ${MAX_BODY_DEPTH} levels`)
      if (problem?.kind === 'array') {
        throw new EvotorError(2003, {
          reason: 'incorrect',
          subject: problem.subject,
          value: null,
          message: `Evotor error 2003: ${problem.subject} has ${problem.length} elements (at most ${MAX_INNER_ARRAY})`,
        })
      }
      return (await parseIncomingAsync(
        route.request,
        raw,
        route.source === 'query' ? { rootSubject: 'query' } : {},
      )) as WebhookBody<RouteName>
    } catch (error) {
      // Event routes answer 200 only (protocol §5.3): a broken event goes to `unknownEvent`.
      if (!EVENT_ROUTES.has(route.name) || !isEvotorError(error) || !isPlainObject(raw)) throw error
      const event = { ...shallowFields(raw, error.code === 2001), type: 'Unknown', rawType: raw.type }
      invalidEvents.set(event, error.items)
      return event as unknown as WebhookBody<RouteName>
    }
  }

  async function withDeadline<T>(route: RouteName, run: () => Promise<T>): Promise<T> {
    const started = Date.now()
    const timer = setTimeout(() => {
      logger.warn('evotor-partner: handler is past the deadline; the Evotor cloud gives up after 10 s', {
        route,
        deadlineMs,
      })
    }, deadlineMs)
    timer.unref?.()
    try {
      return await run()
    } finally {
      clearTimeout(timer)
      const took = Date.now() - started
      if (took > deadlineMs) logger.warn('evotor-partner: handler finished late', { route, ms: took })
    }
  }

  async function runHandler(
    route: CompiledRoute,
    context: WebhookContext<RouteName>,
  ): Promise<{ value: unknown } | 'unhandled'> {
    const event = context.body as unknown as Record<string, unknown>
    if (EVENT_ROUTES.has(route.name) && isUnknown(event)) {
      const errors = invalidEvents.get(event)
      logger.warn(
        errors === undefined
          ? 'evotor-partner: event of an unknown type acknowledged'
          : 'evotor-partner: event that fails its schema acknowledged (event routes answer 200 only)',
        { route: route.name, type: event.rawType, ...(errors === undefined ? {} : { errors }) },
      )
      const catchAll = handlers.unknownEvent
      if (catchAll !== undefined) {
        const common = {
          route: route.name as 'subscriptionEvent' | 'installationEvent',
          userId: context.userId,
          request: context.request,
        }
        await catchAll(
          errors === undefined
            ? { ...common, reason: 'unknown-type', event: event as UnknownSubscriptionEvent, errors: [] }
            : { ...common, reason: 'invalid', event: { ...event, type: event.rawType }, errors },
        )
      }
      return { value: undefined }
    }
    const handler = handlers[route.name] as WebhookHandler<RouteName> | undefined
    if (handler === undefined) return 'unhandled'
    return { value: await handler(context as never) }
  }

  async function dispatch(
    route: CompiledRoute,
    context: WebhookContext<RouteName>,
  ): Promise<WebhookResponse> {
    const hasHandler =
      handlers[route.name] !== undefined ||
      (EVENT_ROUTES.has(route.name) && handlers.unknownEvent !== undefined)
    if (!hasHandler && !(EVENT_ROUTES.has(route.name) && isUnknown(context.body))) {
      if (route.kind === 'notification' && unhandled === 'ack') return { status: 200, headers: {}, body: '' }
      return evotorErrorResponse(EvotorError.notFound())
    }
    if (route.kind === 'request') {
      const result = await withDeadline(route.name, () => runHandler(route, context))
      if (result === 'unhandled') return evotorErrorResponse(EvotorError.notFound())
      if (route.response === undefined) return { status: 200, headers: {}, body: '' }
      const value = validateOutgoing(route.response, result.value)
      return jsonResponse(200, value)
    }

    const key =
      idempotency === undefined
        ? undefined
        : idempotencyKeyFor(route.name, context.body, {
            ...(context.storeUuid === undefined ? {} : { storeUuid: context.storeUuid }),
            ...(context.userId === undefined ? {} : { userId: context.userId }),
          })
    const once = async (): Promise<'ran' | 'done' | 'in-progress'> => {
      if (idempotency === undefined || key === undefined) {
        await withDeadline(route.name, () => runHandler(route, context))
        return 'ran'
      }
      const outcome = await runIdempotent(
        idempotency,
        key,
        () => withDeadline(route.name, () => runHandler(route, context)),
        { leaseMs },
      )
      return outcome.outcome
    }

    let outcome: 'ran' | 'done' | 'in-progress' | 'stale' | 'deferred'
    const sequence = route.name === 'subscriptionEvent' ? sequenceOf(context.body) : undefined
    if (sequencer !== undefined && sequence !== undefined) {
      let inner: 'ran' | 'done' | 'in-progress' = 'ran'
      // Ordering is per user and subscription: one user's numbers never pre-empt another's.
      const stream = userScopedKey(context.userId, sequence.subscriptionId)
      const sequenced = await sequencer
        .run(stream, sequence.sequenceNumber, async () => {
          inner = await once()
          // Not acknowledged means not handled: the sequencer must not move past it.
          if (inner === 'in-progress') throw new InProgress()
        })
        .catch((error: unknown) => {
          if (error instanceof InProgress) return 'in-progress' as const
          throw error
        })
      outcome = sequenced === 'handled' ? inner : sequenced
      if (outcome === 'stale' && idempotency !== undefined && key !== undefined) {
        // At or below the last handled number: a duplicate (its key is done) or an event whose gap
        // was skipped after gapTimeoutMs. The latter is handled late rather than lost.
        outcome = await once()
        if (outcome === 'ran') {
          logger.warn(
            'evotor-partner: subscription event handled after a later one (its gap had timed out)',
            {
              route: route.name,
              subscriptionId: sequence.subscriptionId,
              sequenceNumber: sequence.sequenceNumber,
            },
          )
        }
      }
    } else {
      outcome = await once()
    }
    if (outcome === 'in-progress' || outcome === 'deferred') {
      // Not acknowledged on purpose: the cloud re-sends it later (protocol §5.1).
      return jsonResponse(503, {}, { 'retry-after': '60' })
    }
    return { status: 200, headers: {}, body: '' }
  }

  async function handle(request: WebhookRequest): Promise<WebhookResponse> {
    let routeName: RouteName | undefined
    try {
      const candidates = find(request.path)
      if (candidates.length === 0) return evotorErrorResponse(EvotorError.notFound())
      const method = request.method.toUpperCase()
      const hit = candidates.find((c) => c.route.method === method)
      if (hit === undefined) {
        const allow = [...new Set(candidates.map((c) => c.route.method))]
        return evotorErrorResponse(EvotorError.methodNotAllowed(allow))
      }
      const { route, storeUuid } = hit
      routeName = route.name
      if (
        storeUuid !== undefined &&
        (storeUuid === '' || storeUuid.length > 256 || /[\0-\x1f\x7f]/.test(storeUuid))
      ) {
        throw EvotorError.incorrect('storeUuid', storeUuid.slice(0, 256))
      }
      const auth = await authenticate(route, request)
      const raw = readBody(route, request)
      // One user per request, read from the raw body before anything else (design "Tenancy").
      const userId = requestUser(route.userIds, raw, auth.credential, auth.userId)
      const body = await parseBody(route, raw)
      const context: WebhookContext<RouteName> = {
        route: route.name,
        body,
        userId: userId as string,
        storeUuid,
        credential: auth.credential,
        request,
      }
      return await dispatch(route, context)
    } catch (error) {
      if (isEvotorError(error)) return evotorErrorResponse(error)
      logger.error('evotor-partner: webhook handler failed', {
        route: routeName,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
      return evotorErrorResponse(EvotorError.internal())
    }
  }

  return {
    routes: resolved,
    matches(path) {
      return find(path).length > 0
    },
    handle,
  }
}

class InProgress extends Error {}

/** The top-level fields of an event; with `primitivesOnly`, its objects are left out (too deep). */
function shallowFields(raw: Record<string, unknown>, primitivesOnly: boolean): Record<string, unknown> {
  if (!primitivesOnly) return raw
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw))
    if (typeof value !== 'object' || value === null) out[key] = value
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `subscriptionId` and a positive integer `sequenceNumber`, when the event has both (numeric strings too). */
function sequenceOf(body: unknown): { subscriptionId: string; sequenceNumber: number } | undefined {
  if (!isPlainObject(body)) return undefined
  const { subscriptionId, sequenceNumber } = body
  const n =
    typeof sequenceNumber === 'string' && /^\d{1,15}$/.test(sequenceNumber)
      ? Number(sequenceNumber)
      : sequenceNumber
  if (typeof subscriptionId !== 'string' || subscriptionId === '') return undefined
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return undefined
  return { subscriptionId, sequenceNumber: n }
}

/** The open member of the event unions carries `type: 'Unknown'` (protocol §11 A20). */
function isUnknown(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { type?: unknown }).type === 'Unknown'
}
