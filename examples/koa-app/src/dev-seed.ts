import { hashPassword } from './passwords.js'
import type { AccountsRepository } from './repositories/accounts.js'

/** The demo partner account seeded in development mode. */
export const DEMO_ACCOUNT = Object.freeze({ login: 'demo', password: 'demo-password' })

/**
 * Development mode only: creates the demo partner account unless it exists. Returns `true`
 * when it was created now.
 *
 * @example
 * ```ts
 * if (!config.production) await seedDemoAccount(repos.accounts)
 * ```
 */
export async function seedDemoAccount(
  accounts: Pick<AccountsRepository, 'create' | 'findByLogin'>,
  account: { login: string; password: string } = DEMO_ACCOUNT,
): Promise<boolean> {
  if (await accounts.findByLogin(account.login)) return false
  const result = await accounts.create({
    login: account.login,
    passwordHash: await hashPassword(account.password),
  })
  return result.ok
}
