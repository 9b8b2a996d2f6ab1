/** The options of `createEvotorWebhooks`, checked once at construction (TypeError naming the option). */
import {
  EVOTOR_ROUTES,
  type EvotorRouteDefinition,
  ROUTE_NAMES,
  type RouteCredential,
  type RouteName,
} from '../../protocol/routes.js'
import {
  type AppCredentialOptions,
  type AppCredentialVerifier,
  createAppCredentialVerifier,
} from '../auth/app-credential.js'
import type { UserTokenVerifier } from '../auth/user-token-verifier.js'
import { createMemoryIdempotencyStore, type IdempotencyStore } from '../idempotency.js'
import { type LogSink, toLogSink } from '../logger.js'
import { createSubscriptionSequencer, type SubscriptionSequencer } from '../subscription-sequencer.js'
import type { EvotorWebhookHandlers, EvotorWebhooksOptions } from './types.js'

const WHERE = 'createEvotorWebhooks'

/** Everything a delivery needs, resolved from the options once. */
export interface WebhooksConfig {
  readonly appVerifier: AppCredentialVerifier
  readonly userTokens: UserTokenVerifier | undefined
  readonly handlers: EvotorWebhookHandlers
  /** The `logger` option as a message-first sink (pino, console or a plain object). */
  readonly logger: LogSink
  readonly deadlineMs: number
  readonly leaseMs: number
  readonly unhandled: 'not-found' | 'ack'
  /** Whether `ApplicationUninstalled` writes the user's revocation mark (default true). */
  readonly revokeOnUninstall: boolean
  /** Routes without a handler that were already reported at their first delivery. */
  readonly reported: Set<RouteName>
  readonly idempotency: IdempotencyStore | undefined
  readonly sequencer: SubscriptionSequencer | undefined
  /** The credential each route accepts, after `eventCredential`/`commoditiesCredential`. */
  readonly credentials: Readonly<Record<RouteName, RouteCredential>>
}

function fail(message: string): never {
  throw new TypeError(`${WHERE}: ${message}`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function checkPositiveMs(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isFinite(value) || value <= 0)) {
    fail(`${name} must be a positive number of milliseconds`)
  }
}

function checkHandlers(handlers: unknown): void {
  if (!isObject(handlers)) fail('handlers must be an object of route handlers')
  for (const [name, handler] of Object.entries(handlers)) {
    if (name !== 'unknownEvent' && !ROUTE_NAMES.includes(name as RouteName)) {
      fail(`handlers.${name} is not a route (known: ${ROUTE_NAMES.join(', ')})`)
    }
    if (handler !== undefined && typeof handler !== 'function') fail(`handlers.${name} must be a function`)
  }
}

function checkPaths(options: EvotorWebhooksOptions): void {
  if (options.basePath !== undefined && !/^(\/[^/?#]+)*\/?$/.test(options.basePath)) {
    fail("basePath must start with '/' (e.g. '/evotor')")
  }
  for (const [name, path] of Object.entries(options.paths ?? {})) {
    if (!ROUTE_NAMES.includes(name as RouteName)) fail(`paths.${name} is not a route`)
    if (typeof path !== 'string' || !path.startsWith('/'))
      fail(`paths.${name} must be a path starting with '/'`)
  }
}

function checkUserTokens(tokens: unknown): void {
  if (tokens !== undefined && typeof (tokens as { verify?: unknown } | null)?.verify !== 'function') {
    fail(
      'userTokens must be a user-token verifier with verify(token) (createUserTokens() or createUserTokenLookup())',
    )
  }
}

function checkCredentials(options: EvotorWebhooksOptions): void {
  for (const key of ['eventCredential', 'commoditiesCredential'] as const) {
    const value = options[key]
    if (value !== undefined && value !== 'app' && value !== 'user' && value !== 'app-or-user') {
      fail(`${key} must be 'app', 'user' or 'app-or-user'`)
    }
  }
}

function checkDelivery(options: EvotorWebhooksOptions): void {
  checkPositiveMs('deadlineMs', options.deadlineMs)
  checkPositiveMs('leaseMs', options.leaseMs)
  const store = options.idempotency
  if (
    store !== undefined &&
    store !== false &&
    (!isObject(store) ||
      typeof store.claim !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.release !== 'function')
  ) {
    fail('idempotency must be an IdempotencyStore (claim, complete, release) or false')
  }
  const ordering = options.ordering
  if (ordering !== undefined && ordering !== false) {
    if (!isObject(ordering)) fail('ordering must be an object or false')
    const { holdMs, gapTimeoutMs } = ordering
    if (holdMs !== undefined && (!Number.isFinite(holdMs) || holdMs < 0 || holdMs >= 10_000)) {
      fail('ordering.holdMs must be from 0 to below 10000 ms (Evotor waits 10 s)')
    }
    if (gapTimeoutMs !== undefined && (Number.isNaN(gapTimeoutMs) || gapTimeoutMs < 0)) {
      fail('ordering.gapTimeoutMs must be a non-negative number of ms')
    }
  }
  const unhandled = options.unhandledNotifications
  if (unhandled !== undefined && unhandled !== 'ack' && unhandled !== 'not-found') {
    fail("unhandledNotifications must be 'ack' or 'not-found'")
  }
  if (options.revokeOnUninstall !== undefined && typeof options.revokeOnUninstall !== 'boolean') {
    fail('revokeOnUninstall must be a boolean')
  }
  const logger = options.logger
  if (
    logger !== undefined &&
    (!isObject(logger) || typeof logger.warn !== 'function' || typeof logger.error !== 'function')
  ) {
    fail('logger must have warn() and error() methods')
  }
}

function toVerifier(option: AppCredentialOptions | AppCredentialVerifier): AppCredentialVerifier {
  if (!isObject(option)) fail('appCredential is required ({ bearer } and/or { basic })')
  if ('verify' in option && typeof option.verify === 'function')
    return option as unknown as AppCredentialVerifier
  return createAppCredentialVerifier(option as unknown as AppCredentialOptions)
}

/** Each route's credential: the table's, or the option the table names for it (protocol §11 A4, A5). */
function routeCredentials(options: EvotorWebhooksOptions): Record<RouteName, RouteCredential> {
  const out = {} as Record<RouteName, RouteCredential>
  for (const name of ROUTE_NAMES) {
    const { credential, credentialOption } = EVOTOR_ROUTES[name]
    const chosen = (credentialOption === undefined ? undefined : options[credentialOption]) ?? credential
    if (chosen === 'user' && options.handlers[name] !== undefined && options.userTokens === undefined) {
      fail(`userTokens is required because handlers.${name} accepts user tokens`)
    }
    out[name] = chosen
  }
  return out
}

/**
 * Checks the options (a TypeError naming the option on the first problem) and resolves defaults:
 * in-memory idempotency and ordering, the console as logger, 9 s deadline, 60 s lease, notifications
 * without a handler acknowledged, tokens revoked on uninstall.
 */
export function resolveWebhooksOptions(options: EvotorWebhooksOptions): WebhooksConfig {
  if (!isObject(options)) fail('options must be an object')
  checkUserTokens(options.userTokens)
  checkHandlers(options.handlers)
  checkPaths(options)
  checkCredentials(options)
  checkDelivery(options)
  const appVerifier = toVerifier(options.appCredential)
  return {
    appVerifier,
    userTokens: options.userTokens,
    handlers: { ...options.handlers },
    // The console by default: a route answered by a default must not go unnoticed (no silent 404s).
    logger: toLogSink(options.logger ?? console),
    deadlineMs: options.deadlineMs ?? 9000,
    leaseMs: options.leaseMs ?? 60_000,
    unhandled: options.unhandledNotifications ?? 'ack',
    revokeOnUninstall: options.revokeOnUninstall ?? true,
    reported: new Set(),
    idempotency:
      options.idempotency === false ? undefined : (options.idempotency ?? createMemoryIdempotencyStore()),
    sequencer:
      options.ordering === false ? undefined : createSubscriptionSequencer({ ...(options.ordering ?? {}) }),
    credentials: routeCredentials(options),
  }
}

/** Whether route `name` has a handler (an event route's `unknownEvent` counts, see delivery). */
export function hasHandler(config: WebhooksConfig, name: RouteName): boolean {
  return (
    config.handlers[name] !== undefined ||
    (EVOTOR_ROUTES[name].event && config.handlers.unknownEvent !== undefined)
  )
}

/** What route `name` answers without a handler, in words for the log (protocol §5.1, §5.3, §6). */
export function unhandledAnswer(config: WebhooksConfig, name: RouteName): string {
  const def: EvotorRouteDefinition = EVOTOR_ROUTES[name]
  switch (def.withoutHandler) {
    case 'not-implemented':
      return '501 {} (no token to return: the installation fails in the marketplace)'
    case 'not-found':
      return '404 {} (nothing found)'
    default:
      if (config.unhandled === 'not-found') return '404 {} (not acknowledged: the cloud re-sends it)'
      return def.revokesTokens !== undefined && revokes(config)
        ? `200 (acknowledged and dropped; ${def.revokesTokens.type} still revokes the user's tokens)`
        : '200 (acknowledged and dropped)'
  }
}

/** Whether an uninstall writes a revocation mark: asked for, and the user tokens have a store. */
export function revokes(config: WebhooksConfig): boolean {
  return config.revokeOnUninstall && config.userTokens?.revocations !== undefined
}

/**
 * The one warning at construction: every route without a handler and what it will answer, and an
 * uninstall that cannot revoke. `undefined` when there is nothing to say.
 */
export function constructionWarning(
  config: WebhooksConfig,
): { message: string; fields: Record<string, unknown> } | undefined {
  const routes: Record<string, string> = {}
  for (const name of ROUTE_NAMES) if (!hasHandler(config, name)) routes[name] = unhandledAnswer(config, name)
  const lines = Object.entries(routes).map(([name, answer]) => `  ${name}: ${answer}`)
  const cannotRevoke =
    config.revokeOnUninstall && config.userTokens !== undefined && config.userTokens.revocations === undefined
  if (cannotRevoke) {
    lines.push(
      '  (userTokens has no revocation store: ApplicationUninstalled only drops cached verifications; pass `revocations`)',
    )
  }
  if (lines.length === 0) return undefined
  const count = Object.keys(routes).length
  return {
    message: `evotor-partner: ${count} webhook route${count === 1 ? '' : 's'} without a handler; they answer:\n${lines.join('\n')}`,
    fields: { unhandledRoutes: routes, ...(cannotRevoke ? { revocation: 'unavailable' } : {}) },
  }
}
