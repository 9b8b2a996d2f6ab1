import type { AppDb } from '../database/index.js'
import { type AccountsRepository, createAccountsRepository } from './accounts.js'
import { createDocumentsRepository, type DocumentsRepository } from './documents.js'
import { createEvotorTokensRepository, type EvotorTokensRepository } from './evotor-tokens.js'
import { createInstallationsRepository, type InstallationsRepository } from './installations.js'
import { createInventoryRepository, type InventoryRepository } from './inventory.js'
import { createProductsRepository, type ProductsRepository } from './products.js'
import { createReceiptsRepository, type ReceiptsRepository } from './receipts.js'
import { createSettingsRepository, type SettingsRepository } from './settings.js'
import { createSubscriptionsRepository, type SubscriptionsRepository } from './subscriptions.js'
import { createUserTokensRepository, type UserTokensRepository } from './user-tokens.js'

export type {
  AccountsRepository,
  CreateAccountResult,
  LinkAccountResult,
  NewPartnerAccount,
  PartnerAccount,
} from './accounts.js'
export { normalizeLogin } from './accounts.js'
export type { JsonObject } from './context.js'
export type { DocumentInput, DocumentRecord, DocumentsRepository, InsertCounts } from './documents.js'
export type { EvotorCloudToken, EvotorTokensRepository } from './evotor-tokens.js'
export type {
  ApplyInstallationEventResult,
  Installation,
  InstallationEventInput,
  InstallationsRepository,
} from './installations.js'
export { normalizeInstallationEventType } from './installations.js'
export type {
  DeviceRecord,
  EmployeeRecord,
  InventoryEntityInput,
  InventoryRepository,
  StoreRecord,
} from './inventory.js'
export { INVENTORY_PER_TRANSACTION } from './inventory.js'
export type { ProductInput, ProductRecord, ProductScope, ProductsRepository } from './products.js'
export { CODES_PER_TRANSACTION, PRODUCTS_PER_TRANSACTION, productCodes } from './products.js'
export type { ReceiptEventInput, ReceiptRecord, ReceiptSummary, ReceiptsRepository } from './receipts.js'
export { RECEIPTS_PER_TRANSACTION, SALES_RECEIPT_SIGNS } from './receipts.js'
export type { SettingsRepository } from './settings.js'
export type {
  ApplySubscriptionEventResult,
  Subscription,
  SubscriptionAddon,
  SubscriptionEventInput,
  SubscriptionEventType,
  SubscriptionState,
  SubscriptionsRepository,
} from './subscriptions.js'
export {
  MAX_STORED_EVENT_CHARS,
  normalizeSubscriptionEventType,
  SUBSCRIPTION_EVENT_TYPES,
  SUBSCRIPTION_HISTORY_LIMIT,
} from './subscriptions.js'
export type { IssuedUserToken, UserTokensRepository } from './user-tokens.js'

/** Every repository of the app, over one database (SQLite or PostgreSQL). */
export interface Repositories {
  readonly settings: SettingsRepository
  readonly accounts: AccountsRepository
  readonly userTokens: UserTokensRepository
  readonly evotorTokens: EvotorTokensRepository
  readonly subscriptions: SubscriptionsRepository
  readonly installations: InstallationsRepository
  readonly inventory: InventoryRepository
  readonly products: ProductsRepository
  readonly documents: DocumentsRepository
  readonly receipts: ReceiptsRepository
}

/** Options of {@link createRepositories}. */
export interface RepositoriesOptions {
  /** An open, migrated database (see `openAppDb`): SQLite or PostgreSQL. */
  data: AppDb
  /** Clock; default `() => new Date()`. */
  now?: () => Date
  /** Events stored per subscription (default `SUBSCRIPTION_HISTORY_LIMIT`, 1000). */
  subscriptionHistoryLimit?: number
}

/**
 * Creates all repositories over one database.
 *
 * @example
 * ```ts
 * const data = await openAppDb({ url: config.databaseUrl, path: config.databasePath })
 * const repos = createRepositories({ data })
 * await repos.receipts.storeSummary(userId, storeUuid, dayStart, dayEnd)
 * ```
 */
export function createRepositories(options: RepositoriesOptions): Repositories {
  if (!options || typeof options.data?.transaction !== 'function') {
    throw new TypeError('createRepositories: option "data" must be an open database (openAppDb)')
  }
  const ctx = { data: options.data, db: options.data.db, now: options.now ?? (() => new Date()) }
  const userTokens = createUserTokensRepository(ctx)
  return {
    settings: createSettingsRepository(ctx),
    accounts: createAccountsRepository(ctx),
    userTokens,
    evotorTokens: createEvotorTokensRepository(ctx),
    subscriptions: createSubscriptionsRepository(
      ctx,
      options.subscriptionHistoryLimit === undefined
        ? {}
        : { historyLimit: options.subscriptionHistoryLimit },
    ),
    installations: createInstallationsRepository(ctx),
    inventory: createInventoryRepository(ctx),
    products: createProductsRepository(ctx),
    documents: createDocumentsRepository(ctx),
    receipts: createReceiptsRepository(ctx),
  }
}
