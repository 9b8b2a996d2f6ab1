import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createLocalProxy, type LocalProxy, type LocalProxyExchange } from 'evotor-partner/testing'
import { afterEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { APP_TOKEN, appAuth, call, createTestDir, startTestApp, type TestApp } from './harness.js'

// Issue 15: a terminal app's request through the local cloud proxy into the reference service.
const require = createRequire(import.meta.url)
const bin = join(dirname(require.resolve('evotor-partner/package.json')), 'dist', 'cli.js')

const PUBLIC_URL = 'https://partner.example.com'
const PATTERNS = ['https://partner\\.example\\.com/trpc/.*']
const FORGED_USER = '01-999999999999999'

let app: TestApp | undefined
let dir: TempDir | undefined
let proxy: LocalProxy | undefined
let child: ChildProcess | undefined
afterEach(async () => {
  child?.kill('SIGTERM')
  await proxy?.close()
  await app?.close()
  dir?.cleanup()
  child = undefined
  proxy = undefined
  app = undefined
  dir = undefined
})

async function setUp(appVersion: 1 | 2, proxyVersion: 1 | 2) {
  dir = createTestDir()
  app = await startTestApp(dir, { proxyVersion: appVersion })
  const exchanges: LocalProxyExchange[] = []
  proxy = createLocalProxy({
    target: app.url,
    publicUrl: PUBLIC_URL,
    patterns: PATTERNS,
    proxyVersion,
    userCreate: { appToken: APP_TOKEN },
    onExchange: (exchange) => exchanges.push(exchange),
  })
  const url = await proxy.listen()
  const user = await proxy.user()
  // user/create again for the same user answers the same token: the one the proxy sends.
  const created = await call(app.url, 'POST', '/api/v1/user/create', {
    auth: appAuth,
    body: { userId: user.userId },
  })
  const token = (created.json as { token: string }).token
  expect(token).toMatch(/^[A-Za-z0-9_-]{20,128}$/)
  return { url, user, token, exchanges, app }
}

/** What a terminal app sends: its own headers, including reserved ones the terminal overwrites. */
const appHeaders = {
  'x-device-id': 'app-set-device',
  'x-evotor-user-id': FORGED_USER,
  authorization: 'Bearer app-set-token',
  'x-request-id': 'r-1',
}

describe.each([2, 1] as const)(
  'the local cloud proxy in front of examples/koa-app (proxy ver. %i)',
  (version) => {
    it('forwards an allowed request with the terminal headers replaced by the cloud headers', async () => {
      const { url, user, token, exchanges } = await setUp(version, version)
      const response = await fetch(`${url}/trpc/whoami`, { headers: appHeaders })
      const text = await response.text()
      expect(response.status, text).toBe(200)
      // ver. 1 arrives unwrapped: the app sees the inner answer, not {status, body}.
      expect(JSON.parse(text)).toEqual({
        result: { data: { userId: user.userId, storeUuid: user.storeUuid, deviceUuid: user.deviceUuid } },
      })
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      const [exchange] = exchanges
      expect(exchange).toMatchObject({
        method: 'GET',
        url: `${PUBLIC_URL}/trpc/whoami`,
        outcome: 'forwarded',
        status: 200,
        serviceStatus: 200,
        matchedPattern: PATTERNS[0],
        forwardedTo: `${app!.url}/trpc/whoami`,
      })
      expect(exchange?.stripped.sort()).toEqual(['authorization', 'x-device-id', 'x-evotor-user-id'])
      expect(exchange?.added).toEqual([
        `X-Evotor-Store-Uuid: ${user.storeUuid}`,
        `X-Evotor-Device-UUID: ${user.deviceUuid}`,
        `X-Evotor-User-Id: ${user.userId}`,
        `Authorization: Bearer [REDACTED ${token.length} chars]`,
      ])
      expect(JSON.stringify(exchanges)).not.toContain(token)
    })

    it('refuses a URL outside the allowed list without reaching the service', async () => {
      const { url, exchanges, app } = await setUp(version, version)
      const before = app.logs.length
      const response = await fetch(`${url}/api/v1/commodities?barcode=1`)
      const body = (await response.json()) as { errors: Array<{ reason: string }>; message: string }
      expect(response.status).toBe(403)
      expect(body.errors[0]?.reason).toBe('url-not-allowed')
      expect(body.message).toMatch(/no allowed-URL pattern matches the whole URL/)
      expect(exchanges[0]).toMatchObject({
        outcome: 'refused',
        status: 403,
        url: `${PUBLIC_URL}/api/v1/commodities?barcode=1`,
      })
      expect(exchanges[0]?.forwardedTo).toBeUndefined()
      expect(
        app.logs.slice(before).filter((line) => String(line.path ?? '').includes('commodities')),
      ).toEqual([])
    })

    it('refuses PATCH as the terminal does', async () => {
      const { url, exchanges } = await setUp(version, version)
      const response = await fetch(`${url}/trpc/whoami`, { method: 'PATCH' })
      expect(response.status).toBe(405)
      expect(exchanges[0]?.problems[0]).toMatch(
        /method PATCH: the terminal sends only GET, POST, PUT, DELETE/,
      )
    })
  },
)

describe('the local cloud proxy reports a service that forgot the ver. 1 envelope', () => {
  it('answers 502 and says what came instead', async () => {
    // The portal says ver. 1, the service answers as ver. 2.
    const { url, exchanges } = await setUp(2, 1)
    const response = await fetch(`${url}/trpc/whoami`)
    const body = (await response.json()) as { errors: Array<{ reason: string }>; message: string }
    expect(response.status).toBe(502)
    expect(body.errors[0]?.reason).toBe('proxy-v1-envelope')
    expect(body.message).toMatch(
      /^the service forgot the ver\. 1 envelope: expected \{"status": <int>, "body": …\}, got \{"result"/,
    )
    expect(exchanges[0]).toMatchObject({ outcome: 'failed', status: 502, serviceStatus: 200 })
  })
})

describe('evotor-partner proxy (the real bin)', () => {
  it('serves until stopped and logs each exchange with secrets masked', async () => {
    dir = createTestDir()
    app = await startTestApp(dir, { proxyVersion: 2 })
    const started = spawn(
      process.execPath,
      [
        bin,
        'proxy',
        '--target',
        app.url,
        '--public-url',
        PUBLIC_URL,
        '--pattern',
        PATTERNS[0]!,
        '--port',
        '0',
      ],
      { env: { ...process.env, EVOTOR_APP_TOKEN: APP_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = started
    let stdout = ''
    let stderr = ''
    started.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const url = await new Promise<string>((resolve, reject) => {
      started.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        const found = /listening on (http:\/\/\S+),/.exec(stderr)?.[1]
        if (found !== undefined) resolve(found)
      })
      started.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${stderr}`)))
    })
    const userId = /user (\d{2}-\d{15})/.exec(stderr)?.[1]
    expect(userId).toBeDefined()
    const ok = await fetch(`${url}/trpc/whoami`, { headers: { 'x-device-imei': '123' } })
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { result: { data: { userId: string } } }).result.data.userId).toBe(userId)
    const refused = await fetch(`${url}/admin`)
    expect(refused.status).toBe(403)
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)))
    started.kill('SIGTERM')
    expect(await exited).toBe(0)
    child = undefined
    const created = await call(app.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const token = (created.json as { token: string }).token
    expect(stdout).toMatch(/^→ GET https:\/\/partner\.example\.com\/trpc\/whoami 200 \(\d+ ms\) forwarded$/m)
    expect(stdout).toMatch(/^ {4}stripped x-device-imei$/m)
    expect(stdout).toMatch(/Authorization: Bearer \[REDACTED \d+ chars\]/)
    expect(stdout).toMatch(/^✗ GET https:\/\/partner\.example\.com\/admin 403 \(\d+ ms\) refused$/m)
    expect(stdout + stderr).not.toContain(token)
    expect(stdout + stderr).not.toContain(APP_TOKEN)
  })
})
