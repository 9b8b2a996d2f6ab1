/**
 * The webhook dispatcher: options in `webhooks/options.ts`, path matching in `webhooks/matching.ts`,
 * one delivery in `webhooks/delivery.ts`, the public types in `webhooks/types.ts`.
 */
import { answerDelivery } from './webhooks/delivery.js'
import { createRouteMatcher } from './webhooks/matching.js'
import { resolveWebhooksOptions } from './webhooks/options.js'
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
  return {
    routes: matcher.routes,
    matches: (path) => matcher.find(path).length > 0,
    handle: (request) => answerDelivery(config, matcher, request),
  }
}
