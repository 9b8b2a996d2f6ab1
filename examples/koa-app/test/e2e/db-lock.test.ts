import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { once } from 'node:events'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { buildReceipt, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { appAuth, bearer, call, createTestDir, startTestApp, type TestApp } from './harness.js'

// A second PROCESS holding SQLite's write lock, as `add-account`, a backup or `sqlite3` would.
const LOCKER = `
const Database = require('better-sqlite3')
const db = new Database(process.argv[1])
db.exec('BEGIN IMMEDIATE')
process.stdout.write('locked\\n')
process.stdin.once('data', () => {
  db.exec('COMMIT')
  db.close()
  process.stdout.write('released\\n')
  process.exit(0)
})
`

async function line(child: ChildProcessWithoutNullStreams, expected: string): Promise<void> {
  let seen = ''
  while (!seen.includes(`${expected}\n`)) {
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer]
    seen += chunk.toString('utf8')
  }
}

async function holdLock(path: string): Promise<{ release(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', LOCKER, path], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  })
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk))
  await line(child, 'locked')
  return {
    async release() {
      const released = line(child, 'released')
      child.stdin.write('go\n')
      await released
      if (child.exitCode === null) await once(child, 'exit')
    },
  }
}

let dir: TempDir
let t: TestApp
beforeAll(async () => {
  dir = createTestDir()
  t = await startTestApp(dir)
})
afterAll(async () => {
  await t.close()
  dir.cleanup()
})

describe('a write lock held by another process', () => {
  it('/health answers, a webhook answers 503 + Retry-After, and its redelivery is stored once the lock is gone', async () => {
    const userId = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const token = (created.json as { token: string }).token
    const receipt = buildReceipt({ userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid() })

    const figures: Record<string, number> = {}
    // Baseline for the figures: the same calls without a lock (the machine is shared, timings vary).
    const baseline = monitorEventLoopDelay({ resolution: 5 })
    baseline.enable()
    const warm = buildReceipt({ userId, storeUuid: randomEvotorUuid(), deviceUuid: randomEvotorUuid() })
    await Promise.all([
      call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: warm }),
      call(t.url, 'GET', '/health'),
    ])
    baseline.disable()
    figures.baselineMaxEventLoopDelayMs = baseline.max / 1e6

    const lock = await holdLock(dir.file('app.sqlite'))
    const loop = monitorEventLoopDelay({ resolution: 5 })
    loop.enable()
    try {
      let started = performance.now()
      const health = await call(t.url, 'GET', '/health')
      figures.healthMs = performance.now() - started
      expect(health.status).toBe(200)

      started = performance.now()
      const pending = call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt })
      // While the webhook retries, the server keeps answering other requests.
      const during = await call(t.url, 'GET', '/health')
      figures.healthDuringWebhookMs = performance.now() - started
      expect(during.status).toBe(200)
      const refused = await pending
      figures.webhookMs = performance.now() - started
      expect(refused.status).toBe(503)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(refused.json).toEqual({ errors: [{ reason: 'unavailable', subject: 'database' }] })
      // A token lookup is a read: the lock does not make the user's token look invalid.
      expect(refused.status).not.toBe(401)
      expect(t.server.repos.receipts.get(userId, receipt.data.id)).toBeUndefined()
    } finally {
      loop.disable()
      await lock.release()
    }
    figures.maxEventLoopDelayMs = loop.max / 1e6
    console.info(
      'database lock figures (ms):',
      JSON.stringify(figures, (_k, v) => (typeof v === 'number' ? Math.round(v) : v)),
    )

    const redelivered = await call(t.url, 'POST', '/api/v2/receipts', { auth: bearer(token), body: receipt })
    expect(redelivered.status).toBe(200)
    expect(t.server.repos.receipts.get(userId, receipt.data.id)?.userId).toBe(userId)
    expect(t.logs.some((l) => l.level === 'error')).toBe(false)
  })
})
