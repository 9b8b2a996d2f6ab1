import {
  type AppCredentialOptions,
  type Commodity,
  createEvotorWebhooks,
  EvotorError,
  type EvotorWebhookHandlers,
  type EvotorWebhooks,
  type IdempotencyStore,
  type RouteName,
  type SequenceStore,
} from 'evotor-partner'
import type { PartnerTokens } from './auth.js'
import type { CloudSync } from './cloud-sync.js'
import type { Logger } from './logger.js'
import { verifyPassword } from './passwords.js'
import {
  type InstallationEventInput,
  normalizeInstallationEventType,
  type ProductRecord,
  type Repositories,
} from './repositories/index.js'

/** Instrumentation hooks (tests use them to count handler runs and to hold a request open). */
export interface AppHooks {
  /** Called when a webhook handler starts, after authentication and validation, before any write. */
  beforeHandler?: (route: RouteName) => void | Promise<void>
}

/** Options of {@link createAppWebhooks}. */
export interface AppWebhooksOptions {
  repos: Repositories
  tokens: PartnerTokens
  appCredential: AppCredentialOptions
  idempotency: IdempotencyStore
  sequences: SequenceStore
  logger: Logger
  /** How long an early subscription event waits for its predecessor (default 5000 ms). */
  holdMs?: number
  hooks?: AppHooks
  /** The Evotor cloud sync, when configured: fetches stores and terminals after `user/token`. */
  cloud?: Pick<CloudSync, 'afterUserToken'> | undefined
}

const ALC_CODE = /^[0-9]{19}$/

function rangeOrNull(value: unknown, max: number, integer = false): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > max) return null
  return integer && !Number.isInteger(n) ? null : n
}

/**
 * A stored product as the `commodity` of protocol §6.4 (field names differ from `product`, §11 A35).
 *
 * @example
 * ```ts
 * const product = repos.products.findByBarcode({ userId }, '4601234567890')
 * if (product) toCommodity(product) // { name: 'Квас', measure: 'шт', scanCodes: ['4601234567890'], … }
 * ```
 */
export function toCommodity(product: ProductRecord): Commodity {
  const raw = product.raw
  const name = (product.name ?? '').trim() || product.uuid
  return {
    name: name.slice(0, 100),
    measure: product.measureName ?? 'шт',
    scanCodes: [...product.barCodes],
    alcCodes: product.alcoCodes.filter((code) => ALC_CODE.test(code)),
    alcoholByVolume: rangeOrNull(raw.alcoholByVolume, 99.999),
    alcoholProductKindCode: rangeOrNull(raw.alcoholProductKindCode, 999, true),
    tareVolume: rangeOrNull(raw.tareVolume, 999.999),
  }
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? n : undefined
}

function profileOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const { userId: _userId, userUuid: _userUuid, ...fields } = body
  return Object.keys(fields).length === 0 ? undefined : fields
}

/**
 * The handlers of every webhook of protocol §6, persisted in SQLite.
 *
 * @example
 * ```ts
 * const handlers = createWebhookHandlers({ repos, tokens, logger })
 * ```
 */
export function createWebhookHandlers(
  options: Pick<AppWebhooksOptions, 'repos' | 'tokens' | 'logger' | 'hooks' | 'cloud'>,
): EvotorWebhookHandlers {
  const { repos, tokens, logger } = options
  const before = async (route: RouteName): Promise<void> => {
    await options.hooks?.beforeHandler?.(route)
  }

  const applyInstallation = (event: InstallationEventInput): void => {
    const result = repos.installations.applyEvent(event)
    if (result.applied && normalizeInstallationEventType(event.type) === 'ApplicationUninstalled') {
      // The database revoked the tokens in the same transaction; the cache must forget them now.
      tokens.verifier.revokeUser(event.data.userId)
    }
    logger.info('installation event applied', {
      route: 'installationEvent',
      userId: event.data.userId,
      type: event.type,
      applied: result.applied,
      revokedTokens: result.revokedTokens,
    })
  }

  return {
    async userCreate({ body }) {
      await before('userCreate')
      const { created } = repos.accounts.ensureForEvotorUser(body.userId, profileOf(body))
      const token = await tokens.tokenFor(body.userId)
      logger.info('user created', { route: 'userCreate', userId: body.userId, newAccount: created })
      return { userId: body.userId, token }
    },

    async userVerify({ body }) {
      await before('userVerify')
      const login = typeof body.username === 'string' ? body.username : ''
      const account = login.trim() === '' ? undefined : repos.accounts.findByLogin(login)
      // verifyPassword hashes a dummy when the account is missing: no timing hint about logins.
      const valid = await verifyPassword(body.password ?? '', account?.passwordHash)
      if (account === undefined || !valid) throw EvotorError.wrongCredentials()
      const link = repos.accounts.linkToEvotorUser(account.id, body.userId)
      if (link.outcome === 'linked-to-other-user') throw EvotorError.alreadyLinked()
      if (link.outcome === 'not-found') throw EvotorError.wrongCredentials()
      const token = await tokens.tokenFor(body.userId)
      logger.info('user verified', { route: 'userVerify', userId: body.userId, accountId: account.id })
      return { userId: body.userId, hasBilling: link.account.hasBilling, token }
    },

    async userToken({ body }) {
      await before('userToken')
      const changed = repos.evotorTokens.save(body.userId, body.token)
      logger.info('evotor cloud token stored', { route: 'userToken', userId: body.userId, changed })
      // Queued: runs after the 200, never holds up the webhook.
      options.cloud?.afterUserToken(body.userId)
    },

    async commodities({ body, userId }) {
      await before('commodities')
      // With the app credential the cloud does not say whose catalogue it means (protocol §11 A5).
      if (userId === undefined) throw EvotorError.notFound()
      const product =
        repos.products.findByBarcode({ userId }, body.scanCode) ??
        (typeof body.alcCode === 'string'
          ? repos.products.findByAlcoCode({ userId }, body.alcCode)
          : undefined)
      if (product === undefined) throw EvotorError.notFound()
      return toCommodity(product)
    },

    async subscriptionEvent({ body }) {
      await before('subscriptionEvent')
      const result = repos.subscriptions.applyEvent(body)
      logger.info('subscription event applied', {
        route: 'subscriptionEvent',
        userId: body.userId,
        subscriptionId: body.subscriptionId,
        sequenceNumber: body.sequenceNumber,
        type: body.type,
        state: result.subscription.state,
        duplicate: result.duplicate,
      })
    },

    async installationEvent({ body }) {
      await before('installationEvent')
      applyInstallation(body)
    },

    async unknownEvent(context) {
      // Event routes answer 200 only (protocol §5.3), so an event of an unknown type or one that
      // breaks its schema lands here: it is stored when it can be identified, logged otherwise.
      const event = context.event as Record<string, unknown>
      const reason = 'reason' in context ? context.reason : 'unknown-type'
      const type = textOf(event.rawType) ?? textOf(event.type) ?? 'Unknown'
      if (context.route === 'subscriptionEvent') {
        const subscriptionId = textOf(event.subscriptionId)
        const sequenceNumber = positiveInteger(event.sequenceNumber)
        const userId = textOf(event.userId) ?? context.userId
        if (subscriptionId !== undefined && sequenceNumber !== undefined && userId !== undefined) {
          await before('subscriptionEvent')
          // Kept in the subscription's history; a known type (with a broken field) is applied too.
          const result = repos.subscriptions.applyEvent({
            ...event,
            subscriptionId,
            sequenceNumber,
            userId,
            type,
          })
          logger.warn('subscription event stored as is', {
            route: 'subscriptionEvent',
            reason,
            subscriptionId,
            sequenceNumber,
            type,
            state: result.subscription.state,
          })
          return
        }
      } else {
        const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<
          string,
          unknown
        >
        const id = textOf(event.id) ?? textOf(event.Id)
        const userId = textOf(data.userId)
        const productId = textOf(data.productId)
        if (id !== undefined && userId !== undefined && productId !== undefined) {
          await before('installationEvent')
          applyInstallation({ id, type, timestamp: event.timestamp, data: { userId, productId } })
          return
        }
      }
      const errors = 'errors' in context ? context.errors : []
      logger.warn('event acknowledged but not stored: it cannot be identified', {
        route: context.route,
        reason,
        type,
        errors,
      })
    },

    async stores({ body, userId }) {
      await before('stores')
      const count = repos.inventory.upsertStores(userId, body)
      logger.info('stores upserted', { route: 'stores', userId, count })
    },

    async devices({ body, userId }) {
      await before('devices')
      const count = repos.inventory.upsertDevices(userId, body)
      logger.info('devices upserted', { route: 'devices', userId, count })
    },

    async employees({ body, userId }) {
      await before('employees')
      const count = repos.inventory.upsertEmployees(userId, body)
      logger.info('employees upserted', { route: 'employees', userId, count })
    },

    async products({ body, userId, storeUuid }) {
      if (storeUuid === undefined) throw EvotorError.missing('storeUuid')
      await before('products')
      const count = repos.products.upsert(userId, storeUuid, body)
      logger.info('products upserted', { route: 'products', userId, storeUuid, count })
    },

    async documents({ body, userId, storeUuid }) {
      if (storeUuid === undefined) throw EvotorError.missing('storeUuid')
      await before('documents')
      const counts = repos.documents.insert(userId, storeUuid, body)
      logger.info('documents stored', { route: 'documents', userId, storeUuid, ...counts })
    },

    async receipts({ body, userId }) {
      await before('receipts')
      const counts = repos.receipts.insert(userId, body)
      logger.info('receipts stored', { route: 'receipts', userId, ...counts })
    },
  }
}

/**
 * The webhooks dispatcher of the app: every route of protocol §6, idempotency and
 * `sequenceNumber` ordering in SQLite (they survive restarts), errors in the Evotor format.
 *
 * @example
 * ```ts
 * const webhooks = createAppWebhooks({ repos, tokens, appCredential, idempotency, sequences, logger })
 * app.use(evotorWebhooks(webhooks))
 * ```
 */
export function createAppWebhooks(options: AppWebhooksOptions): EvotorWebhooks {
  const { logger } = options
  return createEvotorWebhooks({
    appCredential: options.appCredential,
    userTokens: options.tokens.verifier,
    handlers: createWebhookHandlers(options),
    idempotency: options.idempotency,
    ordering: {
      store: options.sequences,
      ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
    },
    logger: {
      warn: (message, fields) => logger.warn(message, fields),
      error: (message, fields) => logger.error(message, fields),
    },
  })
}
