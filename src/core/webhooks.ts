/**
 * The webhook dispatcher: options in `webhooks/options.ts`, path matching in `webhooks/matching.ts`,
 * one delivery in `webhooks/delivery.ts`, the public types in `webhooks/types.ts`.
 */

import { isConsoleLike } from './logger.js'
import { answerDelivery } from './webhooks/delivery.js'
import { createRouteMatcher } from './webhooks/matching.js'
import { constructionWarning, resolveWebhooksOptions } from './webhooks/options.js'
import type { EvotorWebhooks, EvotorWebhooksOptions } from './webhooks/types.js'

export type {
  EvotorWebhookHandlers,
  EvotorWebhooks,
  EvotorWebhooksOptions,
  UnknownEventContext,
  UnknownEventHandler,
  WebhookBody,
  WebhookContext,
  WebhookHandler,
  WebhookLogger,
} from './webhooks/types.js'

/**
 * Creates the framework-agnostic dispatcher for every request the Evotor cloud sends to a
 * partner (protocol §6): authentication per route, validation, typed handlers, Evotor error
 * answers, de-duplication of notifications and ordering of subscription events.
 *
 * Routes without a handler are listed in one `logger.warn` here. Notifications (and `user/token`)
 * without one are acknowledged with `200` and reported at their first delivery, because an
 * unacknowledged notification is re-sent for days and then lost (protocol §5.1); `user/create`
 * and `user/verify` answer `501 {}` (they must return a token). An `ApplicationUninstalled`
 * event revokes the user's tokens through `userTokens.revocations` unless `revokeOnUninstall`
 * is `false`, with or without an `installationEvent` handler.
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
  const config = resolveWebhooksOptions(options)
  const matcher = createRouteMatcher(options)
  const warning = constructionWarning(config)
  if (warning !== undefined) {
    // The message lists every route already: a console prints it once, without the same list
    // again as a fields object. Structured loggers (pino) keep the fields to query on.
    if (isConsoleLike(options.logger ?? console)) config.logger.warn(warning.message)
    else config.logger.warn(warning.message, warning.fields)
  }
  return {
    routes: matcher.routes,
    matches: (path) => matcher.find(path).length > 0,
    handle: (request) => answerDelivery(config, matcher, request),
  }
}
