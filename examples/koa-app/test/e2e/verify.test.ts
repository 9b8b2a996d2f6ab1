import { randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAddAccount } from '../../src/cli/add-account.js'
import { seedDemoAccount } from '../../src/dev-seed.js'
import type { TempDir } from '../helpers.js'
import {
  appAuth,
  call,
  createTestDir,
  databaseEnv,
  errorCode,
  proxied,
  rowCounts,
  snapshot,
  startTestApp,
  type TestApp,
  trpcData,
} from './harness.js'

let dir: TempDir
let t: TestApp
beforeAll(async () => {
  dir = createTestDir()
  t = await startTestApp(dir)
  // Configured credentials: the app seeds no demo account, the test creates it.
  await seedDemoAccount(t.server.repos.accounts)
})
afterAll(async () => {
  await t.close()
  dir.cleanup()
})

const verify = (body: Record<string, unknown>) =>
  call(t.url, 'POST', '/api/v1/user/verify', { auth: appAuth, body })

describe('user/verify', () => {
  it('the demo account: right password -> token, wrong -> 401/1006, linked to another user -> 409/2004', async () => {
    const userId = randomUserId()
    const ok = await verify({ userId, username: 'demo', password: 'demo-password' })
    expect(ok.status).toBe(200)
    const { token } = ok.json as { token: string }
    expect(ok.json).toEqual({ userId, hasBilling: false, token })
    expect(token).toMatch(/^[A-Za-z0-9_-]{1,128}$/)
    // A retry of the same login answers the same token.
    expect((await verify({ userId, username: 'demo', password: 'demo-password' })).json).toEqual(ok.json)
    const whoami = await proxied(t.url, '/trpc/whoami', {
      userId,
      storeUuid: randomEvotorUuid(),
      deviceUuid: randomEvotorUuid(),
      token,
    })
    expect(trpcData(whoami)).toMatchObject({ userId })

    const before = await snapshot(t.server)
    const wrong = await verify({ userId, username: 'demo', password: 'demo-passwort' })
    expect(wrong.status).toBe(401)
    expect(errorCode(wrong)).toBe(1006)
    const other = await verify({ userId: randomUserId(), username: 'demo', password: 'demo-password' })
    expect(other.status).toBe(409)
    expect(errorCode(other)).toBe(2004)
    expect(await snapshot(t.server)).toBe(before)
  })

  it('an account added with the add-account command logs in, with its hasBilling', async () => {
    const lines: string[] = []
    const code = await runAddAccount(['cashier@shop', 's3cret-Passw0rd', '--has-billing'], {
      env: await databaseEnv(dir),
      stdout: (line) => lines.push(line),
      stderr: (line) => lines.push(line),
    })
    expect(code).toBe(0)
    const userId = randomUserId()
    const ok = await verify({ userId, username: 'cashier@shop', password: 's3cret-Passw0rd' })
    expect(ok.status).toBe(200)
    expect(ok.json).toMatchObject({ userId, hasBilling: true })
    expect((await t.server.repos.accounts.findByLogin('cashier@shop'))?.evotorUserId).toBe(userId)
    expect(JSON.stringify(t.logs)).not.toContain('s3cret-Passw0rd')

    const wrong = await verify({ userId, username: 'cashier@shop', password: 'demo-password' })
    expect(errorCode(wrong)).toBe(1006)
  })

  it('a user created through user/create that later logs in keeps one token', async () => {
    const userId = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    await runAddAccount(['owner', 'owner-password'], {
      env: await databaseEnv(dir),
      stdout: () => {},
    })
    const rows = (await rowCounts(t.server)).user_tokens
    const verified = await verify({ userId, username: 'owner', password: 'owner-password' })
    expect(verified.status).toBe(200)
    expect((verified.json as { token: string }).token).toBe((created.json as { token: string }).token)
    expect((await rowCounts(t.server)).user_tokens).toBe(rows)
  })
})
