// PostgreSQL going away under a running app: every delivery answers 503 with Retry-After (never
// 200, never a crash), and the app recovers by itself when the server is back. "Down" is a TCP
// relay in front of the real server that is closed and reopened (the shared server stays up).
import { createServer, type Server, Socket } from 'node:net'
import { buildReceipt, buildSubscriptionEvent, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { createTestDatabase, dropTestDatabases } from '../support/postgres.js'
import { appAuth, bearer, call, createTestDir, startTestApp, type TestApp } from './harness.js'

interface Relay {
  readonly port: number
  stop(): Promise<void>
  start(): Promise<void>
}

async function createRelay(target: URL): Promise<Relay> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = new Socket()
        sockets.add(client)
        sockets.add(upstream)
        upstream.connect(Number(target.port || 5432), target.hostname)
        client.pipe(upstream).pipe(client)
        const drop = () => {
          client.destroy()
          upstream.destroy()
          sockets.delete(client)
          sockets.delete(upstream)
        }
        client.on('error', drop).on('close', drop)
        upstream.on('error', drop).on('close', drop)
      })
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as { port: number }).port
        server = next
        resolve()
      })
    })
  await start()
  return {
    get port() {
      return port
    },
    async stop() {
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      const current = server
      server = undefined
      await new Promise<void>((resolve) => (current ? current.close(() => resolve()) : resolve()))
    },
    start,
  }
}

describe('PostgreSQL down under a running app', () => {
  let dir: TempDir
  let relay: Relay
  let t: TestApp

  beforeAll(async () => {
    dir = createTestDir()
    const url = new URL(await createTestDatabase())
    relay = await createRelay(url)
    const viaRelay = new URL(url)
    viaRelay.hostname = '127.0.0.1'
    viaRelay.port = String(relay.port)
    t = await startTestApp(dir, { env: { DATABASE_URL: viaRelay.toString() } })
  }, 60_000)

  afterAll(async () => {
    await relay?.start().catch(() => {})
    await t?.close()
    await relay?.stop()
    await dropTestDatabases()
    dir?.cleanup()
  }, 60_000)

  it('answers 503 with Retry-After while it is down, and 200 again once it is back', async () => {
    const userId = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    expect(created.status).toBe(200)
    const { token } = created.json as { token: string }
    const storeUuid = randomEvotorUuid()
    const deviceUuid = randomEvotorUuid()
    const first = buildReceipt({ userId, storeUuid, deviceUuid })
    expect((await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: first })).status).toBe(
      200,
    )

    await relay.stop()
    const receipt = buildReceipt({ userId, storeUuid, deviceUuid })
    const event = buildSubscriptionEvent('SubscriptionCreated', {
      subscriptionId: randomEvotorUuid(),
      sequenceNumber: 1,
      userId,
    })
    const answers = await Promise.all([
      call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt }),
      call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: event }),
      call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId: randomUserId() } }),
    ])
    for (const answer of answers) {
      expect(answer.status).toBe(503)
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(answer.text).not.toContain('postgres://')
    }
    // The process is still serving.
    expect((await fetch(`${t.url}/health`)).status).toBe(200)

    await relay.start()
    let status = 0
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt })).status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(status).toBe(200)
    const again = await call(t.url, 'POST', '/api/v1/subscription/event', { auth: appAuth, body: event })
    expect(again.status).toBe(200)
    expect(await t.server.repos.receipts.get(userId, receipt.data.id)).toMatchObject({ userId })
  }, 90_000)
})
