/**
 * The one route table of the Evotor webhooks (protocol §4.2, §5.1, §6, §6.13): method, default
 * path, class, accepted credential and schemas per route. The dispatcher, the adapters and the
 * handler types are all derived from it.
 */
import type { z } from 'zod'
import { InstallationEventSchema, SubscriptionEventSchema } from './billing.js'
import { DocumentsV1Schema, ReceiptsV2Schema } from './documents.js'
import {
  CommoditiesQuerySchema,
  CommoditySchema,
  DevicesSchema,
  EmployeesSchema,
  ProductsSchema,
  StoresSchema,
} from './inventory.js'
import {
  UserCreateRequestSchema,
  UserCreateResponseSchema,
  UserTokenRequestSchema,
  UserVerifyRequestSchema,
  UserVerifyResponseSchema,
} from './user.js'

/**
 * `request`: Evotor waits for the answer body (create, verify, token, commodities);
 * `notification`: Evotor only needs `200` and retries otherwise (protocol §5.1).
 *
 * @example
 * ```ts
 * const kind: RouteKind = EVOTOR_ROUTES.stores.kind // 'notification'
 * ```
 */
export type RouteKind = 'request' | 'notification'

/**
 * Which credential a route accepts (protocol §4.2 "Recommended acceptance"): the partner app
 * credential, a partner user token, or either.
 *
 * @example
 * ```ts
 * const credential: RouteCredential = EVOTOR_ROUTES.commodities.credential // 'app-or-user'
 * ```
 */
export type RouteCredential = 'app' | 'user' | 'app-or-user'

/**
 * The shape of one entry of {@link EVOTOR_ROUTES}.
 *
 * @example
 * ```ts
 * const route: EvotorRouteDefinition = EVOTOR_ROUTES.userCreate
 * ```
 */
export interface EvotorRouteDefinition {
  /** HTTP method, upper case. */
  readonly method: 'GET' | 'POST' | 'PUT'
  /** Default path (protocol §6); `:storeUuid` marks the path parameter. */
  readonly path: string
  readonly kind: RouteKind
  readonly credential: RouteCredential
  /** Where `request` is read from: the JSON body, or the query string (commodities). */
  readonly source: 'body' | 'query'
  /** Lenient schema of the body (or query) Evotor sends. */
  readonly request: z.ZodType
  /** Strict schema of the answer body, or `undefined` for an empty `200`. */
  readonly response: z.ZodType | undefined
  /** Opt-in legacy paths (protocol §6.13, §11 A20, A37, A45); not routed unless enabled. */
  readonly legacyPaths?: readonly string[]
  /**
   * Where the body names the Evotor user it speaks for (design "Tenancy"): field paths, applied to
   * the body or, when the body is an array, to each element. Every id found must be the verified
   * user (user token) or agree with the others (app credential) before any handler runs.
   */
  readonly userIds: readonly (readonly string[])[]
  /**
   * An event route (subscription, installation): answers `200` only (protocol §5.3); a body that
   * fails its schema is acknowledged and handed to `unknownEvent` instead of a `400`.
   */
  readonly event: boolean
  /**
   * Which option of `createEvotorWebhooks` may override {@link EvotorRouteDefinition.credential}
   * (protocol §11 A4, A5), or `undefined` when none may.
   */
  readonly credentialOption: 'eventCredential' | 'commoditiesCredential' | undefined
  /**
   * What orders deliveries of this route (protocol §6.5): the field naming the stream and the field
   * holding its positive sequence number, per user; `undefined` for unordered routes.
   */
  readonly ordering: RouteOrdering | undefined
  /** How the de-duplication key of a delivery is made (protocol §5.1); see {@link RouteIdempotency}. */
  readonly idempotency: RouteIdempotency
  /**
   * What the route answers when the partner gave it no handler: `acknowledge` (an empty `200`, as
   * an unacknowledged notification is re-sent for days and then lost, protocol §5.1),
   * `not-found` (`404 {}`, the documented "nothing found" of commodities, §6.4) or
   * `not-implemented` (`501 {}`: user/create and user/verify must return a token, §6.1, §6.2).
   */
  readonly withoutHandler: 'acknowledge' | 'not-found' | 'not-implemented'
  /**
   * The event `type` after which the user's partner tokens are revoked (protocol §4.6: Evotor
   * cannot refresh a token, so an uninstall ends them), and the body field holding when it
   * happened (ms since the epoch, §6.6); `undefined` on every other route.
   */
  readonly revokesTokens: { readonly type: string; readonly timestamp: string } | undefined
}

/**
 * What orders a route's deliveries: `stream` names the sequence (per user), `sequence` the field
 * holding its number.
 *
 * @example
 * ```ts
 * const ordering: RouteOrdering | undefined = EVOTOR_ROUTES.subscriptionEvent.ordering
 * // { stream: 'subscriptionId', sequence: 'sequenceNumber' }
 * ```
 */
export interface RouteOrdering {
  readonly stream: string
  readonly sequence: string
}

/**
 * How a delivery's de-duplication key is made; every key starts with `prefix` and the verified user.
 * - `none`: no key (requests, and full upserts where a re-delivery is harmless);
 * - `sequence`: the ordering fields (`<stream>:<number>`), else a hash of the body;
 * - `id`: the first of `ids` the body has (a one-element array counts as its element), else a hash;
 * - `content`: a hash of the body and the path's `storeUuid` (immutable payloads);
 * - `token`: the body's `userId` and a hash of its `token` (user/token).
 *
 * @example
 * ```ts
 * const key: RouteIdempotency = EVOTOR_ROUTES.receipts.idempotency // { kind: 'id', prefix: 'receipt', ids: ['id'] }
 * ```
 */
export type RouteIdempotency =
  | { readonly kind: 'none' }
  | { readonly kind: 'sequence'; readonly prefix: string }
  | { readonly kind: 'id'; readonly prefix: string; readonly ids: readonly string[] }
  | { readonly kind: 'content'; readonly prefix: string }
  | { readonly kind: 'token'; readonly prefix: string }

const NO_KEY = { kind: 'none' } as const

const USER_FIELDS = [['userId'], ['userUuid']] as const // §6.1–6.3, legacy `userUuid` (§11 A1)
const EVENT_USER_FIELDS = [['userId'], ['data', 'userId']] as const // §6.5, §6.6
const RECEIPT_USER_FIELDS = [['userId'], ['data', 'userId']] as const // §9.6, each receipt
const DOCUMENT_USER_FIELDS = [['userId']] as const // §9.5 `document2.userId`, when sent
const V2_INVENTORY_USER_FIELDS = [['user_id']] as const // v2 snake_case stores/devices/… (cloud.ts), each item

/**
 * Every Evotor → partner webhook, keyed by the handler name.
 *
 * @example
 * ```ts
 * import { EVOTOR_ROUTES } from 'evotor-partner/protocol'
 * EVOTOR_ROUTES.products.path // '/api/v1/inventories/stores/:storeUuid/products'
 * EVOTOR_ROUTES.userVerify.response.parse({ userId: '01-000000000000001', hasBilling: false, token: 't' })
 * ```
 */
export const EVOTOR_ROUTES = {
  userCreate: {
    method: 'POST',
    path: '/api/v1/user/create',
    kind: 'request',
    credential: 'app',
    source: 'body',
    request: UserCreateRequestSchema,
    response: UserCreateResponseSchema,
    legacyPaths: ['/api/v1/create'],
    userIds: USER_FIELDS,
    event: false,
    withoutHandler: 'not-implemented',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: NO_KEY,
  },
  userVerify: {
    method: 'POST',
    path: '/api/v1/user/verify',
    kind: 'request',
    credential: 'app',
    source: 'body',
    request: UserVerifyRequestSchema,
    response: UserVerifyResponseSchema,
    legacyPaths: ['/api/v1/verify'],
    userIds: USER_FIELDS,
    event: false,
    withoutHandler: 'not-implemented',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: NO_KEY,
  },
  userToken: {
    method: 'POST',
    path: '/api/v1/user/token',
    kind: 'request',
    credential: 'app',
    source: 'body',
    request: UserTokenRequestSchema,
    response: undefined,
    userIds: USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: { kind: 'token', prefix: 'user-token' },
  },
  commodities: {
    method: 'GET',
    path: '/api/v1/commodities',
    kind: 'request',
    credential: 'app-or-user',
    source: 'query',
    request: CommoditiesQuerySchema,
    response: CommoditySchema,
    userIds: [],
    event: false,
    withoutHandler: 'not-found',
    revokesTokens: undefined,
    credentialOption: 'commoditiesCredential',
    ordering: undefined,
    idempotency: NO_KEY,
  },
  subscriptionEvent: {
    method: 'POST',
    path: '/api/v1/subscription/event',
    kind: 'notification',
    credential: 'app-or-user',
    source: 'body',
    request: SubscriptionEventSchema,
    response: undefined,
    legacyPaths: ['/api/v1/user/event'],
    userIds: EVENT_USER_FIELDS,
    event: true,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: 'eventCredential',
    ordering: { stream: 'subscriptionId', sequence: 'sequenceNumber' },
    idempotency: { kind: 'sequence', prefix: 'subscription' },
  },
  installationEvent: {
    method: 'POST',
    path: '/api/v2/installation/event',
    kind: 'notification',
    credential: 'app-or-user',
    source: 'body',
    request: InstallationEventSchema,
    response: undefined,
    userIds: EVENT_USER_FIELDS,
    event: true,
    withoutHandler: 'acknowledge',
    revokesTokens: { type: 'ApplicationUninstalled', timestamp: 'timestamp' },
    credentialOption: 'eventCredential',
    ordering: undefined,
    // The Aug-2017 draft spelled the event id `Id` (protocol §6.6).
    idempotency: { kind: 'id', prefix: 'installation', ids: ['id', 'Id'] },
  },
  stores: {
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    kind: 'notification',
    credential: 'user',
    source: 'body',
    request: StoresSchema,
    response: undefined,
    userIds: V2_INVENTORY_USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: NO_KEY, // a full upsert (§5.1): applying it twice is harmless
  },
  devices: {
    method: 'PUT',
    path: '/api/v1/inventories/devices',
    kind: 'notification',
    credential: 'user',
    source: 'body',
    request: DevicesSchema,
    response: undefined,
    userIds: V2_INVENTORY_USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: NO_KEY,
  },
  employees: {
    method: 'PUT',
    path: '/api/v1/inventories/employees',
    kind: 'notification',
    credential: 'user',
    source: 'body',
    request: EmployeesSchema,
    response: undefined,
    userIds: V2_INVENTORY_USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: NO_KEY,
  },
  products: {
    method: 'POST',
    path: '/api/v1/inventories/stores/:storeUuid/products',
    kind: 'notification',
    credential: 'user',
    source: 'body',
    request: ProductsSchema,
    response: undefined,
    userIds: V2_INVENTORY_USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: NO_KEY,
  },
  documents: {
    method: 'PUT',
    path: '/api/v1/inventories/stores/:storeUuid/documents',
    kind: 'notification',
    credential: 'user',
    source: 'body',
    request: DocumentsV1Schema,
    response: undefined,
    userIds: DOCUMENT_USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    // Immutable per uuid: a byte-identical re-delivery is a duplicate.
    idempotency: { kind: 'content', prefix: 'documents' },
  },
  receipts: {
    method: 'POST',
    path: '/api/v2/receipts',
    kind: 'notification',
    credential: 'user',
    source: 'body',
    request: ReceiptsV2Schema,
    response: undefined,
    legacyPaths: ['/api/v1/receipt'],
    userIds: RECEIPT_USER_FIELDS,
    event: false,
    withoutHandler: 'acknowledge',
    revokesTokens: undefined,
    credentialOption: undefined,
    ordering: undefined,
    idempotency: { kind: 'id', prefix: 'receipt', ids: ['id'] },
  },
} as const satisfies Record<string, EvotorRouteDefinition>

/**
 * The name of a route (and of its handler): `'userCreate' | 'userVerify' | … | 'receipts'`.
 *
 * @example
 * ```ts
 * const names = Object.keys(EVOTOR_ROUTES) as RouteName[]
 * ```
 */
export type RouteName = keyof typeof EVOTOR_ROUTES

/**
 * The route names in table order.
 *
 * @example
 * ```ts
 * for (const name of ROUTE_NAMES) console.log(name, EVOTOR_ROUTES[name].path)
 * ```
 */
export const ROUTE_NAMES = Object.keys(EVOTOR_ROUTES) as readonly RouteName[]

/**
 * What the handler of route `N` receives: the parsed (output) type of its request schema.
 *
 * @example
 * ```ts
 * type Event = RouteRequest<'subscriptionEvent'> // SubscriptionEvent
 * ```
 */
export type RouteRequest<N extends RouteName> = z.output<(typeof EVOTOR_ROUTES)[N]['request']>

/**
 * What the handler of route `N` must return: the input type of its strict response schema, or
 * `void` for routes answered with an empty `200`.
 *
 * @example
 * ```ts
 * const answer: RouteResponse<'userVerify'> = { userId, hasBilling: false, token }
 * ```
 */
export type RouteResponse<N extends RouteName> = (typeof EVOTOR_ROUTES)[N]['response'] extends infer R extends
  z.ZodType
  ? z.input<R>
  : // biome-ignore lint/suspicious/noConfusingVoidType: handlers of empty-200 routes return Promise<void>
    void

type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name | keyof PathParams<`/${Rest}`>]: string }
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : Record<never, never>

/**
 * Path parameters of route `N` (`{ storeUuid: string }` for products and documents, `{}` else).
 *
 * @example
 * ```ts
 * const params: RouteParams<'products'> = { storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB' }
 * ```
 */
export type RouteParams<N extends RouteName> = PathParams<(typeof EVOTOR_ROUTES)[N]['path']>
