/** The public types of the webhook dispatcher (handlers, contexts, options). */
import type { UnknownInstallationEvent, UnknownSubscriptionEvent } from '../../protocol/billing.js'
import type {
  EVOTOR_ROUTES,
  RouteCredential,
  RouteName,
  RouteRequest,
  RouteResponse,
} from '../../protocol/routes.js'
import type { AppCredentialOptions, AppCredentialVerifier } from '../auth/app-credential.js'
import type { UserTokenVerifier } from '../auth/user-token-verifier.js'
import type { EvotorErrorItem } from '../evotor-error.js'
import type { WebhookDispatcher, WebhookRequest } from '../http-types.js'
import type { IdempotencyStore } from '../idempotency.js'
import type { SequenceStore } from '../subscription-sequencer.js'

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
export type WebhookBody<N extends RouteName> = (typeof EVOTOR_ROUTES)[N]['event'] extends true
  ? Exclude<RouteRequest<N>, { type: 'Unknown' }>
  : RouteRequest<N>

/**
 * The user a handler of route `N` acts for: always a string, except on a route that accepts the app
 * credential and whose body names no user (`commodities`), read from the route table.
 */
type HandlerUser<N extends RouteName> = (typeof EVOTOR_ROUTES)[N]['credential'] extends 'user'
  ? string
  : (typeof EVOTOR_ROUTES)[N]['userIds'] extends readonly []
    ? string | undefined
    : string

/**
 * What a handler of route `N` returns: its response shape (or a promise of it), or anything at all
 * on a route answered with an empty `200` (`({ body }) => map.set(…)` is fine there).
 */
type HandlerResult<N extends RouteName> = (typeof EVOTOR_ROUTES)[N]['response'] extends undefined
  ? unknown
  : RouteResponse<N> | Promise<RouteResponse<N>>

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
  userId: HandlerUser<N>
  /** `{storeUuid}` of the path (products, documents), case kept. */
  storeUuid: string | undefined
  /** Which credential authorised the request. */
  credential: 'app' | 'user'
  /** The request as the adapter passed it (headers for logging, never log `authorization`). */
  request: WebhookRequest
  /**
   * The key under which the dispatcher claimed this delivery in its `IdempotencyStore`
   * (`undefined` when the route has none or idempotency is off). A store kept in your database
   * can mark it done in the transaction that writes the delivery's data, so that a crash after
   * that commit never applies it twice; the dispatcher's own `complete` then finds it done.
   */
  idempotencyKey?: string | undefined
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
export type WebhookHandler<N extends RouteName> = (context: WebhookContext<N>) => HandlerResult<N>

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
 * The logger hook: a pino logger or `console` as they are (each is called in its own argument
 * order, see `toLogSink`), or a plain object whose methods take `(message, fields)`.
 *
 * @example
 * ```ts
 * import type { WebhookLogger } from 'evotor-partner'
 * const logger: WebhookLogger = console // or pino(): its fields become properties of the JSON line
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
  eventCredential?: RouteCredential
  /** Credential for `GET /api/v1/commodities` (default `'app-or-user'`, protocol §11 A5). */
  commoditiesCredential?: RouteCredential
  /** De-duplication of notifications (default: an in-memory store); `false` turns it off. */
  idempotency?: IdempotencyStore | false
  /** How long a claimed delivery may run before another delivery of it may start again (default 60 s). */
  leaseMs?: number
  /** Ordering of subscription events by `sequenceNumber`; `false` turns it off. */
  ordering?: { store?: SequenceStore; holdMs?: number; gapTimeoutMs?: number } | false
  /** A handler running longer than this is reported to the logger (default 9000 ms; Evotor waits 10 s). */
  deadlineMs?: number
  /**
   * What a notification (and `user/token`) without a handler answers: `'ack'` (default: an empty
   * `200` and a warning at its first delivery) or `'not-found'` (`404 {}`, so the cloud re-sends
   * it). Acknowledging is the default because an unacknowledged notification is re-sent for days
   * (subscription and installation events: 3 days, about once a minute, protocol §5.1) and then
   * lost anyway. `user/create` and `user/verify` have no default: without a handler they answer
   * `501 {}` (they must return a token); `commodities` answers `404 {}` ("nothing found", §6.4).
   * At construction, one warning lists every route without a handler and what it answers.
   */
  unhandledNotifications?: 'not-found' | 'ack'
  /**
   * Revoke the user's partner tokens when an `ApplicationUninstalled` event arrives (default
   * `true`), whether or not there is an `installationEvent` handler: the mark
   * `min(event timestamp, now)` goes to `userTokens.revocations` (tokens issued at or before it are
   * refused with 1002 on every instance sharing the store) and cached verifications are dropped.
   * A store that cannot be written answers `503` (the cloud re-sends the event). `false` leaves
   * revocation to you.
   */
  revokeOnUninstall?: boolean
  /** Where warnings and handler failures go (default: `console`). Fields never hold secrets. */
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
