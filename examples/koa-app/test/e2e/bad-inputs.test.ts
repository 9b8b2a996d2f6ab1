import { connect } from 'node:net'
import {
  buildDevices,
  buildEmployees,
  buildInstallationEvent,
  buildProducts,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  randomEvotorUuid,
  randomUserId,
  randomUuid,
} from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemoAccount } from '../../src/dev-seed.js'
import type { TempDir } from '../helpers.js'
import {
  appAuth,
  bearer,
  call,
  createTestDir,
  errorCode,
  input,
  proxied,
  snapshot,
  startTestApp,
  type TestApp,
} from './harness.js'

let dir: TempDir
let t: TestApp
const userId = randomUserId()
const otherUserId = randomUserId()
const storeUuid = randomEvotorUuid()
const deviceUuid = randomEvotorUuid()
let token = ''
let otherToken = ''

beforeAll(async () => {
  dir = createTestDir()
  t = await startTestApp(dir)
  // Configured credentials seed no demo account: create it so a wrong password meets a real one.
  await seedDemoAccount(t.server.repos.accounts)
  for (const [id, set] of [
    [userId, (v: string) => (token = v)],
    [otherUserId, (v: string) => (otherToken = v)],
  ] as const) {
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId: id } })
    set((created.json as { token: string }).token)
  }
  await call(t.url, 'PUT', '/api/v1/inventories/stores', {
    auth: bearer(token),
    body: buildStores({ storeUuid }),
  })
})
afterAll(async () => {
  await t.close()
  dir.cleanup()
})

interface Case {
  name: string
  method: string
  path: string
  auth?: () => string | undefined
  body?: () => unknown
  raw?: string
  status: number
  code?: number
}

const user = () => bearer(token)
const subscription = () =>
  buildSubscriptionEvent('SubscriptionCreated', { subscriptionId: randomUuid(), sequenceNumber: 1, userId })
const products = `/api/v1/inventories/stores/${storeUuid}/products`
const documents = `/api/v1/inventories/stores/${storeUuid}/documents`

const cases: Case[] = [
  {
    name: 'user/create without Authorization',
    method: 'POST',
    path: '/api/v1/user/create',
    body: () => ({ userId: randomUserId() }),
    status: 401,
    code: 1001,
  },
  {
    name: 'user/create with a wrong app token',
    method: 'POST',
    path: '/api/v1/user/create',
    auth: () => 'Bearer wrong-token',
    body: () => ({ userId: randomUserId() }),
    status: 401,
    code: 1001,
  },
  {
    name: 'user/create with a user token',
    method: 'POST',
    path: '/api/v1/user/create',
    auth: user,
    body: () => ({ userId: randomUserId() }),
    status: 401,
    code: 1001,
  },
  {
    name: 'user/create with malformed JSON',
    method: 'POST',
    path: '/api/v1/user/create',
    auth: () => appAuth,
    raw: '{"userId": ',
    status: 400,
    code: 2001,
  },
  {
    name: 'user/create without userId',
    method: 'POST',
    path: '/api/v1/user/create',
    auth: () => appAuth,
    body: () => ({ customField: 'x' }),
    status: 400,
    code: 2002,
  },
  {
    name: 'user/create with a wrong method',
    method: 'GET',
    path: '/api/v1/user/create',
    auth: () => appAuth,
    status: 405,
  },
  {
    name: 'user/verify without userId',
    method: 'POST',
    path: '/api/v1/user/verify',
    auth: () => appAuth,
    body: () => ({ username: 'demo', password: 'demo-password' }),
    status: 400,
    code: 2002,
  },
  {
    name: 'user/verify with a wrong password',
    method: 'POST',
    path: '/api/v1/user/verify',
    auth: () => appAuth,
    body: () => ({ userId: randomUserId(), username: 'demo', password: 'nope' }),
    status: 401,
    code: 1006,
  },
  {
    name: 'user/verify with an unknown login',
    method: 'POST',
    path: '/api/v1/user/verify',
    auth: () => appAuth,
    body: () => ({ userId: randomUserId(), username: 'nobody', password: 'demo-password' }),
    status: 401,
    code: 1006,
  },
  {
    name: 'user/verify without credentials',
    method: 'POST',
    path: '/api/v1/user/verify',
    auth: () => appAuth,
    body: () => ({ userId: randomUserId() }),
    status: 401,
    code: 1006,
  },
  {
    name: 'user/token without token',
    method: 'POST',
    path: '/api/v1/user/token',
    auth: () => appAuth,
    body: () => ({ userId }),
    status: 400,
    code: 2002,
  },
  {
    name: 'user/token with a wrong app token',
    method: 'POST',
    path: '/api/v1/user/token',
    auth: () => 'Bearer nope',
    body: () => ({ userId, token: randomUuid() }),
    status: 401,
    code: 1001,
  },
  {
    name: 'commodities without scanCode',
    method: 'GET',
    path: '/api/v1/commodities',
    auth: user,
    status: 400,
    code: 2002,
  },
  {
    name: 'commodities of an unknown barcode',
    method: 'GET',
    path: '/api/v1/commodities?scanCode=0000000000000',
    auth: user,
    status: 404,
  },
  {
    name: 'commodities with a wrong token',
    method: 'GET',
    path: '/api/v1/commodities?scanCode=1',
    auth: () => 'Bearer nope',
    status: 401,
    code: 1001,
  },
  {
    name: 'subscription event with a wrong credential',
    method: 'POST',
    path: '/api/v1/subscription/event',
    auth: () => 'Bearer nope',
    body: subscription,
    status: 401,
    code: 1001,
  },
  {
    name: 'subscription event with malformed JSON',
    method: 'POST',
    path: '/api/v1/subscription/event',
    auth: () => appAuth,
    raw: '[{',
    status: 400,
    code: 2001,
  },
  {
    name: 'subscription event without subscriptionId',
    method: 'POST',
    path: '/api/v1/subscription/event',
    auth: () => appAuth,
    body: () => ({ ...subscription(), subscriptionId: undefined }),
    status: 200,
  },
  {
    name: 'subscription event of another user with a user token',
    method: 'POST',
    path: '/api/v1/subscription/event',
    auth: () => bearer(otherToken),
    body: subscription,
    status: 401,
    code: 1002,
  },
  {
    name: 'installation event without data',
    method: 'POST',
    path: '/api/v2/installation/event',
    auth: () => appAuth,
    body: () => ({ ...buildInstallationEvent('ApplicationUninstalled', { userId }), data: undefined }),
    status: 200,
  },
  {
    name: 'uninstall of another user with a user token',
    method: 'POST',
    path: '/api/v2/installation/event',
    auth: () => bearer(otherToken),
    body: () => buildInstallationEvent('ApplicationUninstalled', { userId }),
    status: 401,
    code: 1002,
  },
  {
    name: 'stores without a token',
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    body: () => buildStores(),
    status: 401,
    code: 1002,
  },
  {
    name: 'stores with the app credential',
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    auth: () => appAuth,
    body: () => buildStores(),
    status: 401,
    code: 1002,
  },
  {
    name: 'stores with malformed JSON',
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    auth: user,
    raw: '[{"uuid":',
    status: 400,
    code: 2001,
  },
  {
    name: 'stores without uuid',
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    auth: user,
    body: () => [{ name: 'Без id' }],
    status: 400,
    code: 2002,
  },
  {
    name: 'devices that are not an array',
    method: 'PUT',
    path: '/api/v1/inventories/devices',
    auth: user,
    body: () => buildDevices({ storeUuid })[0],
    status: 400,
    code: 2003,
  },
  {
    name: 'employees without a token',
    method: 'PUT',
    path: '/api/v1/inventories/employees',
    body: () => buildEmployees({ storeUuid }),
    status: 401,
    code: 1002,
  },
  {
    name: 'employees with a wrong role type',
    method: 'PUT',
    path: '/api/v1/inventories/employees',
    auth: user,
    body: () => buildEmployees({ storeUuid }).map((e) => ({ ...e, stores: 'x' })),
    status: 400,
    code: 2003,
  },
  {
    name: 'products with malformed JSON',
    method: 'POST',
    path: products,
    auth: user,
    raw: 'not json',
    status: 400,
    code: 2001,
  },
  {
    name: 'products without uuid',
    method: 'POST',
    path: products,
    auth: user,
    body: () => buildProducts().map(({ uuid: _u, ...p }) => p),
    status: 400,
    code: 2002,
  },
  // PostgreSQL's text refuses U+0000 (it answered 500 on every route); UTF-8 cannot hold a lone surrogate.
  {
    name: 'products with U+0000 in a name',
    method: 'POST',
    path: products,
    auth: user,
    raw: JSON.stringify(buildProducts()).replace('"name":"', '"name":"\\u0000'),
    status: 400,
    code: 2003,
  },
  {
    name: 'products with U+0000 in a barcode',
    method: 'POST',
    path: products,
    auth: user,
    body: () => buildProducts().map((p) => ({ ...p, barCodes: ['1\u0000'] })),
    status: 400,
    code: 2003,
  },
  {
    name: 'stores with a lone surrogate in a uuid',
    method: 'PUT',
    path: '/api/v1/inventories/stores',
    auth: user,
    raw: '[{"uuid":"\\ud800","name":"x"}]',
    status: 400,
    code: 2003,
  },
  {
    name: 'commodities with U+0000 in the scan code',
    method: 'GET',
    path: '/api/v1/commodities?scanCode=1%00',
    auth: user,
    status: 400,
    code: 2003,
  },
  {
    name: 'a subscription event with U+0000 in its id',
    method: 'POST',
    path: '/api/v1/subscription/event',
    auth: () => appAuth,
    body: () => ({ ...subscription(), subscriptionId: 'sub-\u0000' }),
    status: 200,
  },
  {
    name: 'products with a wrong method',
    method: 'PUT',
    path: products,
    auth: user,
    body: () => buildProducts(),
    status: 405,
  },
  {
    name: 'documents that are not an array',
    method: 'PUT',
    path: documents,
    auth: user,
    body: () => ({ uuid: randomUuid() }),
    status: 400,
    code: 2003,
  },
  {
    name: 'documents with a wrong token',
    method: 'PUT',
    path: documents,
    auth: () => 'Bearer nope',
    body: () => [],
    status: 401,
    code: 1002,
  },
  {
    name: 'receipts without data.id',
    method: 'POST',
    path: '/api/v2/receipts',
    auth: user,
    body: () => {
      const r = buildReceipt({ userId, storeUuid, deviceUuid })
      return { ...r, data: { ...r.data, id: undefined } }
    },
    status: 400,
    code: 2002,
  },
  {
    name: 'receipts with malformed JSON',
    method: 'POST',
    path: '/api/v2/receipts',
    auth: user,
    raw: '{',
    status: 400,
    code: 2001,
  },
  {
    name: 'an unknown path',
    method: 'POST',
    path: '/api/v1/nothing-here',
    auth: () => appAuth,
    body: () => ({}),
    status: 404,
  },
]

describe('bad inputs get the protocol errors and write nothing', () => {
  it.each(cases)('$name -> $status', async (c) => {
    // Event routes may only answer 200 (protocol §5.3): a broken event is acknowledged, logged and,
    // when it cannot be identified, not stored; only its delivery is remembered as done.
    const acknowledged = c.status === 200
    const except = acknowledged ? (['idempotency_keys'] as const) : []
    const before = await snapshot(t.server, except)
    const warnings = t.logs.filter(
      (l) => l.msg === 'event acknowledged but not stored: it cannot be identified',
    ).length
    const answer = await call(t.url, c.method, c.path, {
      auth: c.auth?.(),
      ...(c.body === undefined ? {} : { body: c.body() }),
      ...(c.raw === undefined ? {} : { raw: c.raw }),
    })
    expect(answer.status).toBe(c.status)
    if (c.code !== undefined) expect(errorCode(answer)).toBe(c.code)
    else if (acknowledged) expect(answer.text).toBe('')
    else expect(answer.json).toEqual({})
    if (c.status === 405) expect(answer.headers.get('allow')).toBe('POST')
    if (acknowledged) {
      const now = t.logs.filter((l) => l.msg === 'event acknowledged but not stored: it cannot be identified')
      expect(now.length).toBe(warnings + 1)
    }
    expect(answer.text).not.toContain(token)
    expect(await snapshot(t.server, except)).toBe(before)
  })

  const terminal = () => ({ userId, storeUuid, deviceUuid, token })
  const proxiedCases: Array<{
    name: string
    path: string
    terminal: () => Parameters<typeof proxied>[2]
    status: number
    code?: number
  }> = [
    {
      name: 'no token',
      path: '/trpc/whoami',
      terminal: () => ({ ...terminal(), token: undefined }),
      status: 401,
      code: 1002,
    },
    {
      name: 'a forged token',
      path: '/trpc/whoami',
      terminal: () => ({ ...terminal(), token: `${token.slice(0, -2)}xx` }),
      status: 401,
      code: 1002,
    },
    {
      name: "another user's X-Evotor-User-Id",
      path: '/trpc/whoami',
      terminal: () => ({ ...terminal(), userId: otherUserId }),
      status: 401,
      code: 1002,
    },
    {
      name: 'the app token as a user token',
      path: '/trpc/whoami',
      terminal: () => ({ ...terminal(), token: appAuth.slice(7) }),
      status: 401,
      code: 1002,
    },
    { name: 'catalog.lookup without input', path: '/trpc/catalog.lookup', terminal, status: 400 },
    {
      name: 'catalog.lookup with U+0000 in the barcode',
      path: `/trpc/catalog.lookup${input({ barcode: '1\u0000' })}`,
      terminal,
      status: 400,
    },
    {
      name: 'catalog.lookup with an empty barcode',
      path: `/trpc/catalog.lookup${input({ barcode: '' })}`,
      terminal,
      status: 400,
    },
    { name: 'an unknown procedure', path: '/trpc/nothing', terminal, status: 404 },
  ]
  it.each(proxiedCases)('proxied: $name -> $status', async (c) => {
    const before = await snapshot(t.server)
    const answer = await proxied(t.url, c.path, c.terminal())
    expect(answer.status).toBe(c.status)
    if (c.code !== undefined) expect(errorCode(answer)).toBe(c.code)
    expect(await snapshot(t.server)).toBe(before)
  })
})

describe('a request Node cannot parse', () => {
  it('a malformed chunked body answers 400 and the app stays up; its raw bytes are not logged', async () => {
    const url = new URL(t.url)
    const secret = `Bearer ${token}`
    const statusLine = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /health HTTP/1.1\r\nHost: x\r\nAuthorization: ${secret}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
        )
      })
      let received = ''
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1')
      })
      socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''))
      socket.on('error', reject)
    })
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request')
    // Koa reports the parser's error after answering; logging it once ended the process.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const health = await fetch(`${t.url}/health`)
    expect(health.status).toBe(200)
    const logged = t.logs.filter((l) => l.msg === 'unhandled error')
    expect(logged.length).toBeGreaterThan(0)
    expect(JSON.stringify(logged)).not.toContain(token)
  })
})

describe('user/create with legacy fields', () => {
  it('keeps the form fields with the account, never a password or token it carries', async () => {
    const newUser = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', {
      auth: appAuth,
      body: {
        userId: newUser,
        customField: 'kept',
        password: 'legacy-p4ss',
        token: 'legacy-tok',
        email: 'a@b.ru',
      },
    })
    expect(created.status).toBe(200)
    const account = await t.server.repos.accounts.findByEvotorUserId(newUser)
    expect(account?.profile).toEqual({ customField: 'kept', email: 'a@b.ru' })
    expect(await snapshot(t.server)).not.toContain('legacy-p4ss')
  })
})
