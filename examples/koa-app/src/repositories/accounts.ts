import type { Kysely } from 'kysely'
import type { Schema } from '../database/index.js'
import { type JsonObject, parseJsonObject, type RepositoryContext } from './context.js'

/** A partner account (the business owner's account in the partner service). */
export interface PartnerAccount {
  readonly id: number
  /** Login for `user/verify`; `null` for accounts born from `user/create`. */
  readonly login: string | null
  readonly passwordHash: string | null
  /** The Evotor user this account is linked to, if any (at most one each way). */
  readonly evotorUserId: string | null
  /** Whether the partner (not Evotor) bills this account: the `hasBilling` of `user/verify`. */
  readonly hasBilling: boolean
  /** Extra registration fields sent with `user/create` (protocol §6.1 `customField`). */
  readonly profile: JsonObject | null
  readonly createdAt: string
  readonly updatedAt: string
}

/** Input of {@link AccountsRepository.create}. */
export interface NewPartnerAccount {
  login: string
  passwordHash: string
  hasBilling?: boolean
}

/** Result of {@link AccountsRepository.create}. */
export type CreateAccountResult =
  | { readonly ok: true; readonly account: PartnerAccount }
  | { readonly ok: false; readonly reason: 'login-taken' }

/** Result of {@link AccountsRepository.linkToEvotorUser}. */
export type LinkAccountResult =
  | {
      readonly outcome: 'linked' | 'already-linked'
      readonly account: PartnerAccount
      /** Set when the Evotor user was linked to another account before (the link moved). */
      readonly previousAccountId?: number
    }
  /** The account belongs to another Evotor user: answer 409/2004 (protocol §6.2). */
  | { readonly outcome: 'linked-to-other-user' }
  | { readonly outcome: 'not-found' }

/** Partner accounts. */
export interface AccountsRepository {
  /** Creates an account with a login (the `add-account` command, the demo seed). */
  create(input: NewPartnerAccount): Promise<CreateAccountResult>
  /**
   * `user/create`: returns the account linked to `userId`, creating it on first call.
   * A retried create finds the same account (protocol §11 A56).
   */
  ensureForEvotorUser(
    userId: string,
    profile?: JsonObject,
  ): Promise<{ account: PartnerAccount; created: boolean }>
  findById(id: number): Promise<PartnerAccount | undefined>
  findByLogin(login: string): Promise<PartnerAccount | undefined>
  findByEvotorUserId(userId: string): Promise<PartnerAccount | undefined>
  /** `user/verify`: links the account to `userId`. */
  linkToEvotorUser(accountId: number, userId: string): Promise<LinkAccountResult>
  setPasswordHash(accountId: number, passwordHash: string): Promise<void>
}

interface AccountRow {
  id: number
  login: string | null
  password_hash: string | null
  evotor_user_id: string | null
  has_billing: number
  profile: string | null
  created_at: string
  updated_at: string
}

function toAccount(row: AccountRow): PartnerAccount {
  return {
    id: row.id,
    login: row.login,
    passwordHash: row.password_hash,
    evotorUserId: row.evotor_user_id,
    hasBilling: row.has_billing === 1,
    profile: row.profile === null ? null : parseJsonObject(row.profile),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/**
 * Normalises a login for storage and lookup (trimmed, Unicode NFC).
 *
 * @example
 * ```ts
 * normalizeLogin('  И.Иванов ') // 'И.Иванов'
 * ```
 */
export function normalizeLogin(login: string): string {
  return login.trim().normalize('NFC')
}

/**
 * Creates the partner-accounts repository.
 *
 * @example
 * ```ts
 * const accounts = createAccountsRepository({ data, db: data.db, now: () => new Date() })
 * const { account } = await accounts.ensureForEvotorUser('01-000000000000001')
 * ```
 */
export function createAccountsRepository(ctx: RepositoryContext): AccountsRepository {
  const { data, db, now } = ctx
  const columns = [
    'id',
    'login',
    'password_hash',
    'evotor_user_id',
    'has_billing',
    'profile',
    'created_at',
    'updated_at',
  ] as const
  const byId = (q: Kysely<Schema>, id: number): Promise<AccountRow | undefined> =>
    q.selectFrom('partner_accounts').select(columns).where('id', '=', id).executeTakeFirst()
  const byUser = (q: Kysely<Schema>, userId: string): Promise<AccountRow | undefined> =>
    q.selectFrom('partner_accounts').select(columns).where('evotor_user_id', '=', userId).executeTakeFirst()
  const setUser = (q: Kysely<Schema>, userId: string | null, at: string, id: number) =>
    q
      .updateTable('partner_accounts')
      .set({ evotor_user_id: userId, updated_at: at })
      .where('id', '=', id)
      .execute()

  return {
    async create(input) {
      const login = normalizeLogin(input.login)
      if (login === '') throw new TypeError('accounts.create: "login" must not be empty')
      const at = now().toISOString()
      const inserted = await db
        .insertInto('partner_accounts')
        .values({
          login,
          password_hash: input.passwordHash,
          has_billing: input.hasBilling ? 1 : 0,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst()
      if (inserted === undefined) return { ok: false, reason: 'login-taken' }
      const row = await byId(db, inserted.id)
      if (!row) throw new Error('inserted account not found')
      return { ok: true, account: toAccount(row) }
    },
    ensureForEvotorUser: (userId, profile) =>
      data.transaction(async (trx) => {
        const at = now().toISOString()
        const inserted = await trx
          .insertInto('partner_accounts')
          .values({
            evotor_user_id: userId,
            has_billing: 0,
            profile: profile === undefined ? null : JSON.stringify(profile),
            created_at: at,
            updated_at: at,
          })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst()
        const row = await byUser(trx, userId)
        if (!row) throw new Error('account for the Evotor user vanished inside a transaction')
        return { account: toAccount(row), created: (inserted.numInsertedOrUpdatedRows ?? 0n) === 1n }
      }),
    findById: async (id) => {
      const row = await byId(db, id)
      return row && toAccount(row)
    },
    findByLogin: async (login) => {
      const row = await db
        .selectFrom('partner_accounts')
        .select(columns)
        .where('login', '=', normalizeLogin(login))
        .executeTakeFirst()
      return row && toAccount(row)
    },
    findByEvotorUserId: async (userId) => {
      const row = await byUser(db, userId)
      return row && toAccount(row)
    },
    linkToEvotorUser: (accountId, userId) =>
      data.transaction(async (trx): Promise<LinkAccountResult> => {
        await data.lock(trx, `account-link:${userId}`)
        const row = await trx
          .selectFrom('partner_accounts')
          .select(columns)
          .where('id', '=', accountId)
          // SQLite has no FOR UPDATE (its write transaction is exclusive anyway).
          .$if(data.kind === 'postgres', (qb) => qb.forUpdate())
          .executeTakeFirst()
        if (!row) return { outcome: 'not-found' }
        if (row.evotor_user_id === userId) return { outcome: 'already-linked', account: toAccount(row) }
        if (row.evotor_user_id !== null) return { outcome: 'linked-to-other-user' }
        const at = now().toISOString()
        // The Evotor user proved ownership of this account with its password: the link moves here.
        const previous = await byUser(trx, userId)
        if (previous) await setUser(trx, null, at, previous.id)
        await setUser(trx, userId, at, accountId)
        const account = toAccount({ ...row, evotor_user_id: userId, updated_at: at })
        return previous
          ? { outcome: 'linked', account, previousAccountId: previous.id }
          : { outcome: 'linked', account }
      }),
    setPasswordHash: async (accountId, passwordHash) => {
      await db
        .updateTable('partner_accounts')
        .set({ password_hash: passwordHash, updated_at: now().toISOString() })
        .where('id', '=', accountId)
        .execute()
    },
  }
}
