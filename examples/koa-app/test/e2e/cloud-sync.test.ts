import {
  buildCloudDevice,
  buildCloudDocument,
  buildCloudStore,
  buildInstallationEvent,
  buildUserCreate,
  createFakeEvotorCloud,
  type FakeEvotorCloud,
} from 'evotor-partner/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runReconcile } from '../../src/cli/reconcile.js'
import type { TempDir } from '../helpers.js'
import {
  APP_TOKEN,
  appAuth,
  bearer,
  call,
  createTestDir,
  DB_KIND,
  databaseEnv,
  proxied,
  startTestApp,
  type TestApp,
  trpcData,
  USER_TOKEN_SECRET,
} from './harness.js'

// The app against the fake Evotor cloud over real HTTP, with its real database: SQLite, or
// PostgreSQL in the `koa-app-postgres` project (DATABASE_URL, a fresh database per test folder).
let cloud: FakeEvotorCloud
let dir: TempDir
let app: TestApp | undefined
const user = { userId: '', token: '' }
const store = buildCloudStore({ name: 'Облачный магазин' })
const device = buildCloudDevice({ storeId: store.id })
let partnerToken = ''
let clock = Date.now() - 3_600_000

/** Documents of the store, each closed one second after the previous. */
function newDocuments(count: number) {
  return Array.from({ length: count }, () => {
    clock += 1000
    return buildCloudDocument({ storeId: store.id, deviceId: device.id, closedAt: new Date(clock) })
  })
}

const documentCount = async (t: TestApp): Promise<number> =>
  (
    await t.server.data.db
      .selectFrom('documents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow()
  ).n

const start = () =>
  startTestApp(dir, {
    env: { EVOTOR_CLOUD_URL: cloud.url, EVOTOR_RECONCILE_INTERVAL_MS: '0', EVOTOR_BULK_POLL_MS: '5' },
  })

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

beforeAll(async () => {
  cloud = await createFakeEvotorCloud({ pageSize: 2, bulkPolls: 2 })
  Object.assign(user, cloud.addUser())
  cloud.seed(user.userId, { stores: [store], devices: [device] })
  dir = createTestDir()
  app = await start()
  // The project's database, not SQLite whatever the project: the service and the CLI share it.
  expect(app.server.data.kind).toBe(DB_KIND)
  const created = await call(app.url, 'POST', '/api/v1/user/create', {
    auth: appAuth,
    body: buildUserCreate({ userId: user.userId }),
  })
  partnerToken = (created.json as { token: string }).token
  const installed = buildInstallationEvent('ApplicationInstalled', { userId: user.userId })
  expect(
    (await call(app.url, 'POST', '/api/v2/installation/event', { auth: appAuth, body: installed })).status,
  ).toBe(200)
})

afterEach(() => cloud.clearFaults())

afterAll(async () => {
  await app?.close()
  await cloud.close()
  dir.cleanup()
})

describe('the example app and the Evotor cloud', () => {
  it('after user/token it fetches stores and terminals without holding up the webhook', async () => {
    const t = app as TestApp
    // The cloud takes 2 s to list stores: the webhook's 200 must not wait for it.
    cloud.fail({ path: '/stores', delayMs: 2000 })
    const answer = await call(t.url, 'POST', '/api/v1/user/token', {
      auth: appAuth,
      body: { userId: user.userId, token: user.token },
    })
    expect(answer.status).toBe(200)
    expect(await t.server.repos.inventory.getStore(user.userId, store.id)).toBeUndefined()
    await waitFor(
      async () => (await t.server.repos.inventory.getDevice(user.userId, device.id)) !== undefined,
      'the terminal',
    )
    expect((await t.server.repos.inventory.getStore(user.userId, store.id))?.name).toBe('Облачный магазин')
    expect((await t.server.repos.inventory.getDevice(user.userId, device.id))?.storeUuid).toBe(store.id)
    expect(JSON.stringify(t.logs)).not.toContain(user.token)
  })

  it('reconciliation stores a receipt no webhook delivered; the webhook afterwards does not double it', async () => {
    const t = app as TestApp
    const [missed, ...rest] = newDocuments(5)
    cloud.seed(user.userId, { documents: [missed!, ...rest] })
    const report = await t.server.cloud!.reconcileAll()
    expect(report).toMatchObject({ users: 1, documents: 5, inserted: 5, failed: 0 })
    const stored = await t.server.repos.documents.get(user.userId, store.id, missed!.id)
    expect(stored?.type).toBe('SELL')
    expect(stored?.deviceUuid).toBe(device.id)
    expect(await documentCount(t)).toBe(5)

    // The same receipt arrives late as a documents webhook (v1 shape, same id).
    const late = await call(t.url, 'PUT', `/api/v1/inventories/stores/${store.id}/documents`, {
      auth: bearer(partnerToken),
      body: [{ uuid: missed!.id, type: 'SELL', deviceUuid: device.id, storeUuid: store.id }],
    })
    expect(late.status).toBe(200)
    expect(await documentCount(t)).toBe(5)
    // A second run reads from the saved position and adds nothing.
    expect((await t.server.cloud!.reconcileAll()).inserted).toBe(0)
    expect(await documentCount(t)).toBe(5)
  })

  it('two runs at once store each document once', async () => {
    const t = app as TestApp
    cloud.seed(user.userId, { documents: newDocuments(3) })
    const [a, b] = await Promise.all([t.server.cloud!.reconcileAll(), t.server.cloud!.reconcileAll()])
    expect(a.inserted + b.inserted).toBe(3)
    expect(a.skipped + b.skipped).toBe(1)
    expect(await documentCount(t)).toBe(8)
  })

  it('two copies of the service on one database: the CLI run next to the service stores once', async () => {
    const t = app as TestApp
    cloud.seed(user.userId, { documents: newDocuments(2) })
    // Slow pages keep the service's run holding its lease while the command runs.
    cloud.fail({ path: `/stores/${store.id}/documents`, delayMs: 150, times: 5 })
    const lines: string[] = []
    const databaseVariables = await databaseEnv(dir)
    expect(Object.keys(databaseVariables)).toEqual([
      DB_KIND === 'postgres' ? 'DATABASE_URL' : 'DATABASE_PATH',
    ])
    const [service, command] = await Promise.all([
      t.server.cloud!.reconcileAll(),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
        runReconcile({
          env: {
            ...databaseVariables,
            EVOTOR_CLOUD_URL: cloud.url,
            EVOTOR_APP_TOKEN: APP_TOKEN,
            USER_TOKEN_SECRET,
          },
          stdout: (line) => lines.push(line),
          stderr: (line) => lines.push(line),
        }),
      ),
    ])
    expect(service.inserted).toBe(2)
    expect(command.code).toBe(0)
    expect(command.report?.skipped).toBe(1)
    expect(lines.join('\n')).toMatch(/1 skipped/)
    expect(await documentCount(t)).toBe(10)
  })

  it('a restart resumes from the persisted cursor', async () => {
    let t = app as TestApp
    cloud.seed(user.userId, { documents: newDocuments(5) })
    // The run re-reads the last hour (10 old + 5 new documents, 8 pages of 2). Page 7 fails
    // (500 is not retried): the run stops after storing pages 1–6.
    cloud.fail({ path: /\/documents\?cursor=/, status: 500, after: 5 })
    const broken = await t.server.cloud!.reconcileAll()
    expect(broken.failed).toBe(1)
    const afterCrash = await documentCount(t)
    expect(afterCrash).toBe(12)
    await t.close()
    app = t = await start()
    const before = cloud.requests.length
    const resumed = await t.server.cloud!.reconcileAll()
    expect(resumed.failed).toBe(0)
    const firstDocumentsCall = cloud.requests.slice(before).find((r) => r.path.endsWith('/documents'))
    expect(Object.keys(firstDocumentsCall?.query ?? {})).toEqual(['cursor'])
    expect(await documentCount(t)).toBe(15)
  })

  it('a tRPC procedure pushes a product through a bulk write and reports its final status', async () => {
    const t = app as TestApp
    const terminal = { userId: user.userId, storeUuid: store.id, deviceUuid: device.id, token: partnerToken }
    const pushed = await proxied(t.url, '/trpc/cloud.pushProduct', terminal, 2, {
      method: 'POST',
      body: { id: 'product-1', name: 'Сидр', price: '120.50', barcodes: ['2000000000060'] },
    })
    expect(pushed.status).toBe(200)
    expect(trpcData(pushed)).toMatchObject({
      status: 'COMPLETED',
      details: [{ id: 'product-1', status: 'COMPLETED' }],
    })
    expect(cloud.products(user.userId, store.id)).toEqual([
      expect.objectContaining({ id: 'product-1', name: 'Сидр', price: '120.50', measure_name: 'шт' }),
    ])

    cloud.failBulkItems(() => 'the store is closed for changes')
    try {
      const failed = await proxied(t.url, '/trpc/cloud.pushProduct', terminal, 2, {
        method: 'POST',
        body: { id: 'product-2', name: 'Квас', price: '89.90' },
      })
      expect(trpcData(failed)).toMatchObject({
        status: 'FAILED',
        details: [{ id: 'product-2', status: 'FAILED', message: 'the store is closed for changes' }],
      })
    } finally {
      cloud.failBulkItems(undefined)
    }

    // The cloud refusing the token is the caller's precondition, not a 5xx.
    cloud.fail({ path: `/stores/${store.id}/products`, status: 403 })
    const refused = await proxied(t.url, '/trpc/cloud.pushProduct', terminal, 2, {
      method: 'POST',
      body: { id: 'product-3', name: 'Хлеб', price: '50' },
    })
    expect(refused.status).toBe(412)
    expect(JSON.stringify(refused.json)).not.toContain(user.token)
  })
})
