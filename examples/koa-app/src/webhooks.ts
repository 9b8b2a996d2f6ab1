import {
  type AppCredentialOptions,
  createEvotorWebhooks,
  EvotorError,
  type EvotorWebhookHandlers,
  type EvotorWebhooks,
  type IdempotencyStore,
  type SequenceStore,
} from 'evotor-partner'
import type { Commodity, RouteName } from 'evotor-partner/protocol'
import type { PartnerTokens } from './auth.js'
import type { CloudSync } from './cloud-sync.js'
import type { Logger } from './logger.js'
import { verifyPassword } from './passwords.js'
import { completeClaim } from './pg-stores.js'
import type { InstallationEventInput, ProductRecord, Repositories } from './repositories/index.js'
import { receiptAmount } from './repositories/receipts.js'
import {
  createLocalSequenceSignal,
  createSharedSequencer,
  type SequenceSignal,
  type SharedSequencer,
  sequenceStream,
} from './sequencer.js'
import { type BusyRetryOptions, retryWhileBusy } from './util/busy.js'
import { toDecimalString } from './util/decimal.js'
import { isStorableText } from './util/text.js'

/** Instrumentation hooks (tests use them to count handler runs and to hold a request open). */
export interface AppHooks {
  /** Called when a webhook handler starts, after authentication and validation, before any write. */
  beforeHandler?: (route: RouteName) => void | Promise<void>
  /**
   * Called when a handler's data write has committed, before the handler returns (tests inject
   * a crash there: a failure between the write and the dispatcher's `complete`).
   */
  afterWrite?: (route: RouteName) => void | Promise<void>
}

/** Options of {@link createAppWebhooks}. */
export interface AppWebhooksOptions {
  repos: Repositories
  tokens: PartnerTokens
  appCredential: AppCredentialOptions
  idempotency: IdempotencyStore
  /**
   * Whether `idempotency` keeps its claims in the app's database (`idempotency_keys`; not Redis):
   * then a receipts delivery's claim is marked done in the transaction that stores its receipts.
   */
  claimsInDatabase?: boolean
  sequences: SequenceStore
  /**
   * How the instances wake each other's waiting subscription events when a sequence advances
   * (`SharedState.sequenceSignal`); default: this process only.
   */
  sequenceSignal?: SequenceSignal | undefined
  logger: Logger
  /** How long an early subscription event waits for its predecessor (default 5000 ms). */
  holdMs?: number
  /**
   * How long a delivery's claim lasts (default 60 000 ms): a copy that arrives while another
   * instance handles it answers 503; a claim left by a killed instance frees itself after this.
   */
  leaseMs?: number
  hooks?: AppHooks
  /** How writes retry while another process holds the database lock (then 503 + `Retry-After`). */
  busyRetry?: BusyRetryOptions
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

/** 503 with `Retry-After: 60` for an event whose predecessor has not been handled yet (the cloud re-sends it). */
function notYetError(): EvotorError {
  return new EvotorError(undefined, {
    status: 503,
    reason: 'unavailable',
    subject: 'sequenceNumber',
    message: 'an earlier event of this subscription has not arrived yet; retry later',
    headers: { 'retry-after': '60' },
  })
}

/**
 * A non-empty string every database stores as it is: an invalid event that reaches `unknownEvent`
 * may hold U+0000 (PostgreSQL's text refuses it) or an unpaired surrogate, which are left out.
 */
function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && isStorableText(value) ? value : undefined
}

/**
 * The longest id this app stores: the library's schemas refuse longer ids (`EvotorIdSchema`,
 * 128 characters, protocol §3.5), and an invalid event that reaches `unknownEvent` is held to the
 * same bound before it is used as a key.
 */
const MAX_ID_LENGTH = 128

function idOf(value: unknown): string | undefined {
  const text = textOf(value)
  return text !== undefined && text.length <= MAX_ID_LENGTH ? text : undefined
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 ? n : undefined
}

/**
 * Refuses a body that names a user other than the verified one (defence in depth: the library
 * checks this too). With a user token the caller is that user: 401/1002, as for a bad token.
 * With the app credential the body's own ids disagree: 400/2003.
 */
function requireSameUser(
  userId: string,
  credential: 'app' | 'user',
  named: ReadonlyArray<readonly [subject: string, value: unknown]>,
): void {
  for (const [subject, value] of named) {
    if (value === undefined || value === null || value === userId) continue
    throw credential === 'user' ? EvotorError.invalidUserToken() : EvotorError.incorrect(subject)
  }
}

/** Whether every id the body names (absent ones aside) is `userId`. */
function sameUser(userId: string, named: readonly unknown[]): boolean {
  return named.every((value) => value === undefined || value === null || value === userId)
}

function objectOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

/** Names of `user/create` fields never stored: the legacy `password`/`token` (protocol §6.1) and the like. */
const SECRET_FIELD = /password|token|secret/i

/** The extra fields of `user/create` kept with the account: not the ids, never a credential. */
function profileOf(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const { userId: _userId, userUuid: _userUuid, ...rest } = body
  const fields = Object.fromEntries(Object.entries(rest).filter(([name]) => !SECRET_FIELD.test(name)))
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
  options: Pick<
    AppWebhooksOptions,
    'repos' | 'tokens' | 'logger' | 'hooks' | 'busyRetry' | 'cloud' | 'claimsInDatabase'
  > & {
    /** Orders subscription events (see {@link createAppWebhooks}); without it they are applied as they come. */
    sequencer?: SharedSequencer
  },
): EvotorWebhookHandlers {
  const { repos, tokens, logger } = options
  /**
   * Runs `apply` in `sequenceNumber` order per user and subscription. At or below the last
   * handled number the event is applied anyway (a late event whose gap timed out, or a duplicate
   * whose delivery key has expired): the repository tells them apart. Not yet its turn: 503.
   */
  const inOrder = async (
    userId: string,
    subscriptionId: string,
    sequenceNumber: number,
    apply: () => Promise<void>,
  ): Promise<void> => {
    const sequencer = options.sequencer
    if (sequencer === undefined) return apply()
    const outcome = await sequencer.run(sequenceStream(userId, subscriptionId), sequenceNumber, apply)
    if (outcome === 'deferred') throw notYetError()
    if (outcome === 'stale') await apply()
  }
  const before = async (route: RouteName): Promise<void> => {
    await options.hooks?.beforeHandler?.(route)
  }
  // Every write: retried without blocking while another process holds the lock, then 503.
  const write = <T>(fn: () => T): Promise<T> => retryWhileBusy(fn, options.busyRetry)

  const applyInstallation = async (userId: string, event: InstallationEventInput): Promise<void> => {
    // Token revocation is not done here: the dispatcher revokes on ApplicationUninstalled through
    // the tokens' RevocationStore (revocations.ts) before this handler runs.
    const result = await write(() => repos.installations.applyEvent(userId, event))
    logger.info(
      {
        route: 'installationEvent',
        userId,
        type: event.type,
        applied: result.applied,
      },
      'installation event applied',
    )
  }

  return {
    async userCreate({ body }) {
      await before('userCreate')
      const { created } = await write(() => repos.accounts.ensureForEvotorUser(body.userId, profileOf(body)))
      const token = await tokens.tokenFor(body.userId)
      logger.info({ route: 'userCreate', userId: body.userId, newAccount: created }, 'user created')
      return { userId: body.userId, token }
    },

    async userVerify({ body }) {
      await before('userVerify')
      const login = typeof body.username === 'string' ? body.username : ''
      const account = login.trim() === '' ? undefined : await write(() => repos.accounts.findByLogin(login))
      // verifyPassword hashes a dummy when the account is missing: no timing hint about logins.
      const valid = await verifyPassword(body.password ?? '', account?.passwordHash)
      if (account === undefined || !valid) throw EvotorError.wrongCredentials()
      const link = await write(() => repos.accounts.linkToEvotorUser(account.id, body.userId))
      if (link.outcome === 'linked-to-other-user') throw EvotorError.alreadyLinked()
      if (link.outcome === 'not-found') throw EvotorError.wrongCredentials()
      const token = await tokens.tokenFor(body.userId)
      logger.info({ route: 'userVerify', userId: body.userId, accountId: account.id }, 'user verified')
      return { userId: body.userId, hasBilling: link.account.hasBilling, token }
    },

    async userToken({ body }) {
      await before('userToken')
      const changed = await write(() => repos.evotorTokens.save(body.userId, body.token))
      logger.info({ route: 'userToken', userId: body.userId, changed }, 'evotor cloud token stored')
      // Queued: runs after the 200, never holds up the webhook.
      options.cloud?.afterUserToken(body.userId)
    },

    async commodities({ body, userId }) {
      await before('commodities')
      // With the app credential the cloud does not say whose catalogue it means (protocol §11 A5).
      if (userId === undefined) throw EvotorError.notFound()
      const { alcCode } = body
      const product =
        (await write(() => repos.products.findByBarcode({ userId }, body.scanCode))) ??
        (typeof alcCode === 'string'
          ? await write(() => repos.products.findByAlcoCode({ userId }, alcCode))
          : undefined)
      if (product === undefined) throw EvotorError.notFound()
      return toCommodity(product)
    },

    async subscriptionEvent({ body, userId, credential }) {
      // The subscription is stored under the verified user: another user's subscription with
      // the same id is a different row, never read or moved.
      requireSameUser(userId, credential, [['userId', body.userId]])
      await inOrder(userId, body.subscriptionId, body.sequenceNumber, async () => {
        await before('subscriptionEvent')
        const result = await write(() => repos.subscriptions.applyEvent(userId, body))
        logger.info(
          {
            route: 'subscriptionEvent',
            userId,
            subscriptionId: body.subscriptionId,
            sequenceNumber: body.sequenceNumber,
            type: body.type,
            state: result.subscription.state,
            duplicate: result.duplicate,
          },
          'subscription event applied',
        )
      })
    },

    async installationEvent({ body, userId, credential }) {
      // Acts on the verified user only: never on whichever user `data.userId` names.
      requireSameUser(userId, credential, [
        ['userId', (body as { userId?: unknown }).userId],
        ['data.userId', body.data.userId],
      ])
      await before('installationEvent')
      await applyInstallation(userId, body)
    },

    async unknownEvent(context) {
      // Event routes answer 200 only (protocol §5.3), so an event of an unknown type or one that
      // breaks its schema lands here: it is stored when it can be identified, logged otherwise.
      const event = context.event as Record<string, unknown>
      const reason = 'reason' in context ? context.reason : 'unknown-type'
      const type = textOf(event.rawType) ?? textOf(event.type) ?? 'Unknown'
      if (context.route === 'subscriptionEvent') {
        const subscriptionId = idOf(event.subscriptionId)
        const sequenceNumber = positiveInteger(event.sequenceNumber)
        const userId = context.userId ?? idOf(event.userId)
        if (userId !== undefined && !sameUser(userId, [event.userId])) {
          logger.warn(
            {
              route: context.route,
              reason,
              type,
            },
            'event names another user than the verified one: not stored',
          )
          return
        }
        if (subscriptionId !== undefined && sequenceNumber !== undefined && userId !== undefined) {
          await inOrder(userId, subscriptionId, sequenceNumber, async () => {
            await before('subscriptionEvent')
            // Kept in the subscription's history; a known type (with a broken field) is applied too.
            const result = await write(() =>
              repos.subscriptions.applyEvent(userId, {
                ...event,
                subscriptionId,
                sequenceNumber,
                userId,
                type,
              }),
            )
            logger.warn(
              {
                route: 'subscriptionEvent',
                reason,
                subscriptionId,
                sequenceNumber,
                type,
                state: result.subscription.state,
              },
              'subscription event stored as is',
            )
          })
          return
        }
      } else {
        const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<
          string,
          unknown
        >
        const id = idOf(event.id) ?? idOf(event.Id)
        const userId = context.userId ?? idOf(data.userId)
        const productId = idOf(data.productId)
        if (userId !== undefined && !sameUser(userId, [event.userId, data.userId])) {
          logger.warn(
            {
              route: context.route,
              reason,
              type,
            },
            'event names another user than the verified one: not stored',
          )
          return
        }
        if (id !== undefined && userId !== undefined && productId !== undefined) {
          await before('installationEvent')
          await applyInstallation(userId, {
            id,
            type,
            timestamp: event.timestamp,
            data: { userId, productId },
          })
          return
        }
      }
      const errors = 'errors' in context ? context.errors : []
      logger.warn(
        {
          route: context.route,
          reason,
          type,
          errors,
        },
        'event acknowledged but not stored: it cannot be identified',
      )
    },

    async stores({ body, userId }) {
      await before('stores')
      const count = await write(() => repos.inventory.upsertStores(userId, body))
      logger.info({ route: 'stores', userId, count }, 'stores upserted')
    },

    async devices({ body, userId }) {
      await before('devices')
      const count = await write(() => repos.inventory.upsertDevices(userId, body))
      logger.info({ route: 'devices', userId, count }, 'devices upserted')
    },

    async employees({ body, userId }) {
      await before('employees')
      const count = await write(() => repos.inventory.upsertEmployees(userId, body))
      logger.info({ route: 'employees', userId, count }, 'employees upserted')
    },

    async products({ body, userId, storeUuid }) {
      if (storeUuid === undefined) throw EvotorError.missing('storeUuid')
      for (const [i, product] of body.entries()) {
        const price = (product as { price?: unknown }).price
        if (price !== undefined && price !== null && toDecimalString(price) === undefined) {
          throw EvotorError.incorrect(`${i}.price`)
        }
      }
      await before('products')
      const count = await write(() => repos.products.upsert(userId, storeUuid, body))
      logger.info({ route: 'products', userId, storeUuid, count }, 'products upserted')
    },

    async documents({ body, userId, storeUuid, credential }) {
      if (storeUuid === undefined) throw EvotorError.missing('storeUuid')
      for (const [i, document] of body.entries()) {
        requireSameUser(userId, credential, [[`${i}.userId`, (document as { userId?: unknown }).userId]])
      }
      await before('documents')
      const counts = await write(() => repos.documents.insert(userId, storeUuid, body))
      logger.info({ route: 'documents', userId, storeUuid, ...counts }, 'documents stored')
    },

    async receipts({ body, userId, credential, idempotencyKey }) {
      for (const [i, event] of body.entries()) {
        // Every receipt is the verified user's: one naming another user refuses the whole batch.
        requireSameUser(userId, credential, [
          [`${i}.userId`, (event as { userId?: unknown }).userId],
          [`${i}.data.userId`, objectOf(event.data).userId],
        ])
        // Kept exactly or refused: never stored as 0 or NULL.
        if (receiptAmount(objectOf(event.data)) === undefined)
          throw EvotorError.incorrect(`${i}.data.totalAmount`)
      }
      await before('receipts')
      // The claim is completed with the receipts, in their last transaction: a crash after the
      // commit leaves the delivery done, so its re-delivery answers 200 without running again.
      const key = options.claimsInDatabase === true ? idempotencyKey : undefined
      const counts = await write(() =>
        repos.receipts.insert(
          userId,
          body,
          key === undefined ? {} : { inLastTransaction: (trx) => completeClaim(trx, key, Date.now()) },
        ),
      )
      await options.hooks?.afterWrite?.('receipts')
      logger.info({ route: 'receipts', userId, ...counts }, 'receipts stored')
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
  // Ordering runs in the handlers rather than in the library's dispatcher: the library's
  // sequencer wakes a waiting event only when its own process handles the predecessor, so an
  // event whose predecessor reached another instance would wait its whole hold. This one is also
  // woken through the instances' shared channel. Each delivery is claimed (idempotency) first.
  const sequencer = createSharedSequencer({
    store: options.sequences,
    signal: options.sequenceSignal ?? createLocalSequenceSignal(),
    ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
    onPublishError: (error) =>
      logger.warn({ message: (error as Error).message }, 'subscription sequence advance not announced'),
  })
  return createEvotorWebhooks({
    appCredential: options.appCredential,
    userTokens: options.tokens.verifier,
    handlers: createWebhookHandlers({ ...options, sequencer }),
    idempotency: options.idempotency,
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ordering: false,
    // pino as it is: the library calls it (fields, message).
    logger,
  })
}
