import type { z } from 'zod'
import {
  EVOTOR_ROUTES,
  type EvotorRouteDefinition,
  type RouteName,
  type RouteRequest,
  type RouteResponse,
} from '../protocol/routes.js'
import { parseIncoming, validateOutgoing } from '../protocol/validation.js'
import {
  type AppCredentialOptions,
  type AppCredentialVerifier,
  createAppCredentialVerifier,
} from './auth/app-credential.js'
import { type ParsedAuthorization, parseAuthorization } from './auth/authorization.js'
import type { UserTokenVerifier } from './auth/user-token-verifier.js'
import { EvotorError, isEvotorError } from './evotor-error.js'
import { getHeader } from './headers.js'
import type { WebhookDispatcher, WebhookRequest, WebhookResponse } from './http-types.js'
import {
  createMemoryIdempotencyStore,
  type IdempotencyStore,
  idempotencyKeyFor,
  runIdempotent,
} from './idempotency.js'
import { parseJsonBody, sanitizeParsedBody } from './safe-json.js'
import { createSubscriptionSequencer, type SequenceStore } from './subscription-sequencer.js'

/** Which credential a route accepts. */
export type WebhookCredential = 'app' | 'user' | 'app-or-user'

/**
 * The body a handler of route `N` receives. Events of an unknown `type` never reach the typed
 * handlers (they go to `unknownEvent`), so their open member is left out here.
 */
export type WebhookBody<N extends RouteName> = N extends 'subscriptionEvent' | 'installationEvent'
  ? Exclude<RouteRequest<N>, { type: 'Unknown' }>
  : RouteRequest<N>

/** What a handler receives. */
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

/** A handler for route `N`: typed from the route table; a wrong return shape does not compile. */
export type WebhookHandler<N extends RouteName> = (
  context: WebhookContext<N>,
) => RouteResponse<N> | Promise<RouteResponse<N>>

/** A catch-all for subscription/installation events whose `type` is unknown (acknowledged with 200). */
export type UnknownEventHandler = (context: {
  route: 'subscriptionEvent' | 'installationEvent'
  event: Record<string, unknown>
  userId: string | undefined
  request: WebhookRequest
}) => void | Promise<void>

/** Handlers by route name. */
export type EvotorWebhookHandlers = { [N in RouteName]?: WebhookHandler<N> } & {
  /** Called for subscription/installation events of an unknown `type` (protocol §11 A20). */
  unknownEvent?: UnknownEventHandler
}

/** The logger hook: any object with these methods (console, pino, a custom sink). */
export interface WebhookLogger {
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** Options of {@link createEvotorWebhooks}. */
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

/** The dispatcher: `handle()` answers one delivery; adapters in `evotor-partner/koa` etc. call it. */
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
}

interface PathMatcher {
  route: CompiledRoute
  exact: string | undefined
  pattern: RegExp | undefined
}

const JSON_TYPE = 'application/json;charset=UTF-8'
const ROUTE_NAMES = Object.keys(EVOTOR_ROUTES) as RouteName[]
const EVENT_ROUTES = new Set<RouteName>(['subscriptionEvent', 'installationEvent'])
const SILENT_LOGGER: WebhookLogger = { warn() {}, error() {} }

function json(status: number, body: unknown, headers: Record<string, string> = {}): WebhookResponse {
  return { status, headers: { ...headers, 'content-type': JSON_TYPE }, body: JSON.stringify(body) }
}

function errorResponse(error: EvotorError): WebhookResponse {
  return json(error.status, error.toBody(), { ...error.headers })
}

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
    const isUnknownEvent = EVENT_ROUTES.has(route.name) && isUnknown(event)
    if (isUnknownEvent) {
      logger.warn('evotor-partner: event of an unknown type acknowledged', {
        route: route.name,
        type: event.rawType,
      })
      const catchAll = handlers.unknownEvent
      if (catchAll !== undefined) {
        await catchAll({
          route: route.name as 'subscriptionEvent' | 'installationEvent',
          event,
          userId: context.userId,
          request: context.request,
        })
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
      return errorResponse(EvotorError.notFound())
    }
    if (route.kind === 'request') {
      const result = await withDeadline(route.name, () => runHandler(route, context))
      if (result === 'unhandled') return errorResponse(EvotorError.notFound())
      if (route.response === undefined) return { status: 200, headers: {}, body: '' }
      const value = validateOutgoing(route.response, result.value)
      return json(200, value)
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
    const event = context.body as unknown as { subscriptionId?: unknown; sequenceNumber?: unknown }
    if (
      route.name === 'subscriptionEvent' &&
      sequencer !== undefined &&
      typeof event.subscriptionId === 'string' &&
      typeof event.sequenceNumber === 'number'
    ) {
      let inner: 'ran' | 'done' | 'in-progress' = 'ran'
      const sequenced = await sequencer
        .run(event.subscriptionId, event.sequenceNumber, async () => {
          inner = await once()
          // Not acknowledged means not handled: the sequencer must not move past it.
          if (inner === 'in-progress') throw new InProgress()
        })
        .catch((error: unknown) => {
          if (error instanceof InProgress) return 'in-progress' as const
          throw error
        })
      outcome = sequenced === 'handled' ? inner : sequenced
    } else {
      outcome = await once()
    }
    if (outcome === 'in-progress' || outcome === 'deferred') {
      // Not acknowledged on purpose: the cloud re-sends it later (protocol §5.1).
      return json(503, {}, { 'retry-after': '60' })
    }
    return { status: 200, headers: {}, body: '' }
  }

  async function handle(request: WebhookRequest): Promise<WebhookResponse> {
    let routeName: RouteName | undefined
    try {
      const candidates = find(request.path)
      if (candidates.length === 0) return errorResponse(EvotorError.notFound())
      const method = request.method.toUpperCase()
      const hit = candidates.find((c) => c.route.method === method)
      if (hit === undefined) {
        const allow = [...new Set(candidates.map((c) => c.route.method))]
        return errorResponse(EvotorError.methodNotAllowed(allow))
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
      const body = parseIncoming(
        route.request,
        raw,
        route.source === 'query' ? { rootSubject: 'query' } : {},
      ) as WebhookBody<RouteName>
      const context: WebhookContext<RouteName> = {
        route: route.name,
        body,
        userId: (auth.userId ?? userIdOf(body)) as string,
        storeUuid,
        credential: auth.credential,
        request,
      }
      return await dispatch(route, context)
    } catch (error) {
      if (isEvotorError(error)) return errorResponse(error)
      logger.error('evotor-partner: webhook handler failed', {
        route: routeName,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
      return errorResponse(EvotorError.internal())
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

/** The user a body names: `userId`, or `data.userId` (installation events, protocol §6.6). */
function userIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { userId, data } = body as { userId?: unknown; data?: { userId?: unknown } | null }
  if (typeof userId === 'string') return userId
  return typeof data?.userId === 'string' ? data.userId : undefined
}

/** The open member of the event unions carries `type: 'Unknown'` (protocol §11 A20). */
function isUnknown(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { type?: unknown }).type === 'Unknown'
}
