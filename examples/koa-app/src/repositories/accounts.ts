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
  create(input: NewPartnerAccount): CreateAccountResult
  /**
   * `user/create`: returns the account linked to `userId`, creating it on first call.
   * A retried create finds the same account (protocol §11 A56).
   */
  ensureForEvotorUser(userId: string, profile?: JsonObject): { account: PartnerAccount; created: boolean }
  findById(id: number): PartnerAccount | undefined
  findByLogin(login: string): PartnerAccount | undefined
  findByEvotorUserId(userId: string): PartnerAccount | undefined
  /** `user/verify`: links the account to `userId`. */
  linkToEvotorUser(accountId: number, userId: string): LinkAccountResult
  setPasswordHash(accountId: number, passwordHash: string): void
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
 * const accounts = createAccountsRepository({ db: db.sqlite, now: () => new Date() })
 * const { account } = accounts.ensureForEvotorUser('01-000000000000001')
 * ```
 */
export function createAccountsRepository(ctx: RepositoryContext): AccountsRepository {
  const { db, now } = ctx
  const columns = 'id, login, password_hash, evotor_user_id, has_billing, profile, created_at, updated_at'
  const byId = db.prepare<[number], AccountRow>(`SELECT ${columns} FROM partner_accounts WHERE id = ?`)
  const byLogin = db.prepare<[string], AccountRow>(`SELECT ${columns} FROM partner_accounts WHERE login = ?`)
  const byUser = db.prepare<[string], AccountRow>(
    `SELECT ${columns} FROM partner_accounts WHERE evotor_user_id = ?`,
  )
  const insertLogin = db.prepare<[string, string, number, string, string]>(
    'INSERT OR IGNORE INTO partner_accounts (login, password_hash, has_billing, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
  )
  const insertForUser = db.prepare<[string, string | null, string, string]>(
    'INSERT OR IGNORE INTO partner_accounts (evotor_user_id, profile, created_at, updated_at) VALUES (?, ?, ?, ?)',
  )
  const setUser = db.prepare<[string | null, string, number]>(
    'UPDATE partner_accounts SET evotor_user_id = ?, updated_at = ? WHERE id = ?',
  )
  const setHash = db.prepare<[string, string, number]>(
    'UPDATE partner_accounts SET password_hash = ?, updated_at = ? WHERE id = ?',
  )

  const ensureForEvotorUser = db.transaction((userId: string, profile: JsonObject | undefined) => {
    const at = now().toISOString()
    const created =
      insertForUser.run(userId, profile === undefined ? null : JSON.stringify(profile), at, at).changes === 1
    const row = byUser.get(userId)
    if (!row) throw new Error('account for the Evotor user vanished inside a transaction')
    return { account: toAccount(row), created }
  })

  const linkToEvotorUser = db.transaction((accountId: number, userId: string): LinkAccountResult => {
    const row = byId.get(accountId)
    if (!row) return { outcome: 'not-found' }
    if (row.evotor_user_id === userId) return { outcome: 'already-linked', account: toAccount(row) }
    if (row.evotor_user_id !== null) return { outcome: 'linked-to-other-user' }
    const at = now().toISOString()
    // The Evotor user proved ownership of this account with its password: the link moves here.
    const previous = byUser.get(userId)
    if (previous) setUser.run(null, at, previous.id)
    setUser.run(userId, at, accountId)
    const account = toAccount({ ...row, evotor_user_id: userId, updated_at: at })
    return previous
      ? { outcome: 'linked', account, previousAccountId: previous.id }
      : { outcome: 'linked', account }
  })

  return {
    create(input) {
      const login = normalizeLogin(input.login)
      if (login === '') throw new TypeError('accounts.create: "login" must not be empty')
      const at = now().toISOString()
      const result = insertLogin.run(login, input.passwordHash, input.hasBilling ? 1 : 0, at, at)
      if (result.changes === 0) return { ok: false, reason: 'login-taken' }
      const row = byId.get(Number(result.lastInsertRowid))
      if (!row) throw new Error('inserted account not found')
      return { ok: true, account: toAccount(row) }
    },
    ensureForEvotorUser: (userId, profile) => ensureForEvotorUser.immediate(userId, profile),
    findById: (id) => {
      const row = byId.get(id)
      return row && toAccount(row)
    },
    findByLogin: (login) => {
      const row = byLogin.get(normalizeLogin(login))
      return row && toAccount(row)
    },
    findByEvotorUserId: (userId) => {
      const row = byUser.get(userId)
      return row && toAccount(row)
    },
    linkToEvotorUser: (accountId, userId) => linkToEvotorUser.immediate(accountId, userId),
    setPasswordHash: (accountId, passwordHash) => {
      setHash.run(passwordHash, now().toISOString(), accountId)
    },
  }
}
