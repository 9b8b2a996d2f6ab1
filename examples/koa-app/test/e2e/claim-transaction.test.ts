// A receipts delivery's idempotency claim is completed in the transaction that stores its
// receipts (SQLite here, PostgreSQL in the `postgres` project): a crash after that commit, before
// the dispatcher's own `complete`, must not apply the delivery twice when the cloud re-sends it.
import { buildReceipt, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import {
  appAuth,
  bearer,
  call,
  createTestDir,
  proxied,
  startTestApp,
  type TestApp,
  trpcData,
} from './harness.js'

let dir: TempDir
let t: TestApp
/** Set by a test: the next receipts write "crashes" right after its commit. */
let crashAfterWrite = false

beforeAll(async () => {
  dir = createTestDir()
  t = await startTestApp(dir, {
    hooks: {
      afterWrite(route) {
        if (route === 'receipts' && crashAfterWrite) {
          crashAfterWrite = false
          throw new Error('injected crash after the receipts were written')
        }
      },
    },
  })
})
afterAll(async () => {
  await t.close()
  dir.cleanup()
})

async function newUser(): Promise<{ userId: string; token: string }> {
  const userId = randomUserId()
  const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
  expect(created.status).toBe(200)
  return { userId, token: (created.json as { token: string }).token }
}

describe('receipts: the claim completes in the data transaction', () => {
  it('a crash after the write, then the re-delivery: 200, stored and counted once, the handler not run again', async () => {
    const user = await newUser()
    const storeUuid = randomEvotorUuid()
    const base = buildReceipt({ userId: user.userId, storeUuid, deviceUuid: randomEvotorUuid() })
    const event = {
      ...base,
      data: { ...base.data, type: 'SELL', totalAmount: '7.25', dateTime: new Date().toISOString() },
    }
    const before = t.handled.get('receipts') ?? 0

    crashAfterWrite = true
    const crashed = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(user.token), body: [event] })
    // Not acknowledged: the cloud re-sends it (within the claim's lease, which is still running).
    expect(crashed.status).not.toBe(200)
    expect(t.handled.get('receipts')).toBe(before + 1)
    expect(await t.server.repos.receipts.get(user.userId, event.data.id)).toBeDefined()

    const redelivered = await call(t.url, 'POST', '/api/v2/receipts', {
      auth: bearer(user.token),
      body: [event],
    })
    expect(redelivered.status).toBe(200)
    // The claim was done with the data: the handler did not run a second time.
    expect(t.handled.get('receipts')).toBe(before + 1)
    const summary = trpcData(
      await proxied(t.url, '/trpc/store.summary', { ...user, storeUuid, deviceUuid: randomEvotorUuid() }),
    )
    expect(summary).toMatchObject({ count: 1, total: '7.25' })
  })

  it('a handler that fails before its write leaves the claim released: the re-delivery runs it', async () => {
    const user = await newUser()
    const base = buildReceipt({
      userId: user.userId,
      storeUuid: randomEvotorUuid(),
      deviceUuid: randomEvotorUuid(),
    })
    // An amount that cannot be kept exactly: refused before anything is written.
    const bad = { ...base, data: { ...base.data, totalAmount: 'not a number' } }
    const refused = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(user.token), body: [bad] })
    expect(refused.status).toBe(400)
    const good = { ...bad, data: { ...base.data, totalAmount: '1.00' } }
    const before = t.handled.get('receipts') ?? 0
    const stored = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(user.token), body: [good] })
    expect(stored.status).toBe(200)
    expect(t.handled.get('receipts')).toBe(before + 1)
    expect(await t.server.repos.receipts.get(user.userId, base.data.id)).toBeDefined()
  })
})
