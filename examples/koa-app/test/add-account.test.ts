import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runAddAccount } from '../src/cli/add-account.js'
import { openAppDb } from '../src/database/index.js'
import { seedDemoAccount } from '../src/dev-seed.js'
import { verifyPassword } from '../src/passwords.js'
import { createRepositories } from '../src/repositories/index.js'
import { createTempDir, type TempDir } from './helpers.js'

let dir: TempDir
beforeEach(async () => {
  dir = createTempDir()
})
afterEach(() => dir.cleanup())

function run(argv: string[], stdin?: string) {
  const out: string[] = []
  const err: string[] = []
  const io = {
    env: { DATABASE_PATH: dir.file('data/app.sqlite') },
    stdout: (l: string) => out.push(l),
    stderr: (l: string) => err.push(l),
    ...(stdin === undefined ? {} : { readStdin: () => stdin }),
  }
  return runAddAccount(argv, io).then((code) => ({ code, out, err }))
}

async function account(login: string) {
  const db = await openAppDb({ path: dir.file('data/app.sqlite') })
  try {
    return await createRepositories({ data: db }).accounts.findByLogin(login)
  } finally {
    await db.close()
  }
}

describe('add-account command', () => {
  it('creates an account with a hashed password', async () => {
    const { code, out } = await run(['ivanov', 'superpassword'])
    expect(code).toBe(0)
    expect(out.join('\n')).toContain('"ivanov"')
    expect(out.join('\n')).not.toContain('superpassword')
    const stored = await account('ivanov')
    expect(stored?.passwordHash).toMatch(/^scrypt\$/)
    expect(stored?.hasBilling).toBe(false)
    expect(await verifyPassword('superpassword', stored?.passwordHash)).toBe(true)
  })

  it('reads the password from stdin with "-" and honours --has-billing', async () => {
    expect((await run(['petrov', '-', '--has-billing'], 'from-stdin\n')).code).toBe(0)
    const stored = await account('petrov')
    expect(stored?.hasBilling).toBe(true)
    expect(await verifyPassword('from-stdin', stored?.passwordHash)).toBe(true)
  })

  it('refuses a taken login and bad usage', async () => {
    await run(['ivanov', 'a'])
    const taken = await run(['ivanov', 'b'])
    expect(taken.code).toBe(1)
    expect(taken.err.join('\n')).toContain('already taken')
    expect((await run(['only-login'])).code).toBe(2)
    expect((await run(['a', 'b', '--unknown'])).code).toBe(2)
  })
})

describe('seedDemoAccount', () => {
  it('creates the demo account once', async () => {
    const db = await openAppDb({ path: dir.file('app.sqlite') })
    try {
      const repos = createRepositories({ data: db })
      expect(await seedDemoAccount(repos.accounts, { login: 'demo', password: 'demo-password' })).toBe(true)
      expect(await seedDemoAccount(repos.accounts, { login: 'demo', password: 'other' })).toBe(false)
      expect(
        await verifyPassword('demo-password', (await repos.accounts.findByLogin('demo'))?.passwordHash),
      ).toBe(true)
    } finally {
      db.close()
    }
  })
})
