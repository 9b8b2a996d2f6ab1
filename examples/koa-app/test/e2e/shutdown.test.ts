import { buildReceipt, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openAppDb } from '../../src/database/index.js'
import { createRepositories } from '../../src/repositories/index.js'
import type { TempDir } from '../helpers.js'
import { appAuth, bearer, call, createTestDir, databaseEnv, startTestApp, type TestApp } from './harness.js'

let dir: TempDir
beforeEach(async () => {
  dir = createTestDir()
})
afterEach(() => dir.cleanup())

/** An app whose receipts handler waits at a gate, so a request is in flight when shutdown starts. */
async function appWithGate(shutdownTimeoutMs: number, shutdownGraceMs = 5_000) {
  let entered!: () => void
  let open!: () => void
  const reached = new Promise<void>((resolve) => {
    entered = resolve
  })
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  const t: TestApp = await startTestApp(dir, {
    shutdownTimeoutMs,
    shutdownGraceMs,
    hooks: {
      async beforeHandler(route) {
        if (route !== 'receipts') return
        entered()
        await gate
      },
    },
  })
  const userId = randomUserId()
  const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
  const token = (created.json as { token: string }).token
  const receipt = buildReceipt({ userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid() })
  return { t, token, receipt, reached, open }
}

async function storedReceipt(userId: string, id: string) {
  const env = await databaseEnv(dir)
  const db = await openAppDb({ url: env.DATABASE_URL, path: env.DATABASE_PATH ?? dir.file('app.sqlite') })
  try {
    return await createRepositories({ data: db }).receipts.get(userId, id)
  } finally {
    await db.close()
  }
}

describe('graceful shutdown', () => {
  it('an in-flight request completes and is persisted while the server closes; new connections are refused', async () => {
    const { t, token, receipt, reached, open } = await appWithGate(5_000)
    const inFlight = call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt })
    await reached
    const closed = t.close()
    let closedYet = false
    void closed.then(() => {
      closedYet = true
    })

    await expect(fetch(`${t.url}/health`)).rejects.toThrow()
    expect(closedYet).toBe(false)
    expect(t.server.data.open).toBe(true)

    open()
    const answer = await inFlight
    expect(answer.status).toBe(200)
    await closed
    expect(t.server.data.open).toBe(false)
    expect(t.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']))
    expect((await storedReceipt(receipt.userId as string, receipt.data.id))?.userId).toBe(receipt.userId)
  })

  it('a handler still running after the timeout: its connection is cut, the database stays open until it ends', async () => {
    const { t, token, receipt, reached, open } = await appWithGate(200)
    const inFlight = call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt }).catch(
      (error: unknown) => error,
    )
    await reached
    const started = Date.now()
    const closed = t.close()
    // The connection is cut at the timeout…
    expect(await inFlight).toBeInstanceOf(Error)
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
    expect(t.logs.map((l) => l.msg)).toContain('shutdown timeout: cutting open connections')
    // …but the handler goes on, and the database must still be there for it.
    expect(t.server.data.open).toBe(true)
    open()
    await closed
    expect(t.server.data.open).toBe(false)
    expect(JSON.stringify(t.logs)).not.toContain('The database connection is not open')
    expect(t.logs.filter((l) => l.level === 'error')).toEqual([])
    expect((await storedReceipt(receipt.userId as string, receipt.data.id))?.userId).toBe(receipt.userId)
  })

  it('a handler that never ends: the database is closed anyway after the grace period', async () => {
    const { t, token, receipt, reached } = await appWithGate(100, 200)
    const inFlight = call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt }).catch(
      (error: unknown) => error,
    )
    await reached
    const started = Date.now()
    await t.close()
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(await inFlight).toBeInstanceOf(Error)
    expect(t.server.data.open).toBe(false)
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        msg: 'shutdown: handlers still running, closing the database anyway',
        inFlight: 1,
      }),
    )
  }, 10_000)
})
