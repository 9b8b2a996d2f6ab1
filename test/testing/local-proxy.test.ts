import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import {
  createLocalProxy,
  formatLocalProxyExchange,
  type LocalProxy,
  type LocalProxyExchange,
  type LocalProxyOptions,
} from '../../src/testing/index.js'
import { runProxyCommand } from '../../src/testing/local-proxy-command.js'

const TOKEN = 'local-proxy-user-token-5f4e3d2c1b0a'
const USER = {
  userId: '01-000000000000042',
  storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
  deviceUuid: '20170222-D58C-40E0-8051-B53ADFF38860',
  token: TOKEN,
}
const PUBLIC = 'https://partner.example.com'

const servers: Server[] = []
const proxies: LocalProxy[] = []
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()))
  await Promise.all(
    servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  )
})

/** A partner service that echoes what reached it; `/v1` answers with the ver. 1 envelope. */
async function echoService(): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const seen = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }
      if (req.url === '/user/create') {
        const ok = req.headers.authorization === 'Bearer app-secret'
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
        res.end(
          ok ? JSON.stringify({ userId: JSON.parse(seen.body).userId, token: 'created-token-1' }) : '{}',
        )
        return
      }
      const body = JSON.stringify(seen)
      if (req.url?.startsWith('/v1') === true) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ status: 201, body }))
        return
      }
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-service': 'echo',
        'set-cookie': ['a=1', 'b=2'],
      })
      res.end(body)
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function start(options: Partial<LocalProxyOptions> & { target: string }) {
  const exchanges: LocalProxyExchange[] = []
  const proxy = createLocalProxy({
    publicUrl: PUBLIC,
    patterns: ['https://partner\\.example\\.com/.*'],
    user: USER,
    onExchange: (exchange) => exchanges.push(exchange),
    ...options,
  })
  proxies.push(proxy)
  return { url: await proxy.listen(), exchanges, proxy }
}

/**
 * One raw request to the proxy at `url`: Node's client sends `path` as given (absolute form, dot
 * segments) and any `Host` or `Origin`, which `fetch` would not.
 */
function raw(url: string, path: string, headers: Record<string, string> = {}) {
  const { port } = new URL(url)
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

interface Echo {
  method: string
  url: string
  headers: Record<string, string>
  body: string
}

describe('createLocalProxy', () => {
  it('forwards method, path, query and body, with the cloud headers and nothing reserved', async () => {
    const { url, exchanges } = await start({ target: await echoService() })
    const response = await fetch(`${url}/api/orders?x=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-device-salt': 'salt',
        'x-secret-device-id': 'secret-device',
        'x-evotor-store-uuid': 'forged-store',
        'x-request-id': 'keep-me',
        authorization: 'Basic YXBwOnBhc3M=',
      },
      body: '{"sum":1}',
    })
    const echo = (await response.json()) as Echo
    expect(echo).toMatchObject({ method: 'POST', url: '/api/orders?x=1', body: '{"sum":1}' })
    expect(echo.headers).toMatchObject({
      'x-evotor-store-uuid': USER.storeUuid,
      'x-evotor-device-uuid': USER.deviceUuid,
      'x-evotor-user-id': USER.userId,
      authorization: `Bearer ${TOKEN}`,
      'x-request-id': 'keep-me',
      'content-type': 'application/json',
    })
    expect(echo.headers['x-device-salt']).toBeUndefined()
    expect(echo.headers['x-secret-device-id']).toBeUndefined()
    // ver. 2 passes the answer through, headers included.
    expect(response.headers.get('x-service')).toBe('echo')
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(exchanges[0]?.stripped.sort()).toEqual([
      'authorization',
      'x-device-salt',
      'x-evotor-store-uuid',
      'x-secret-device-id',
    ])
    const line = formatLocalProxyExchange(exchanges[0]!)
    expect(line).toMatch(
      /^→ POST https:\/\/partner\.example\.com\/api\/orders\?x=1 200 \(\d+ ms\) forwarded\n/,
    )
    expect(line).toContain(`Authorization: Bearer [REDACTED ${TOKEN.length} chars]`)
    expect(line + JSON.stringify(exchanges)).not.toContain(TOKEN)
    expect(line + JSON.stringify(exchanges)).not.toContain('YXBwOnBhc3M=')
  })

  it('takes the URL of an absolute-form request (the proxy used as an HTTP proxy)', async () => {
    const { url, exchanges } = await start({ target: await echoService() })
    const answer = await raw(url, `${PUBLIC}/items`)
    expect(answer.status).toBe(200)
    expect((JSON.parse(answer.body) as Echo).url).toBe('/items')
    expect((await raw(url, 'https://partner.example.com.evil.io/items')).status).toBe(403)
    expect(exchanges.map((e) => [e.outcome, e.url])).toEqual([
      ['forwarded', `${PUBLIC}/items`],
      ['refused', 'https://partner.example.com.evil.io/items'],
    ])
  })

  it('answers only localhost, IP addresses and allowed hosts: a rebound domain gets 403, the service nothing', async () => {
    let reached = 0
    const target = await echoService()
    servers.at(-1)!.on('request', () => reached++)
    const { url, exchanges } = await start({
      target,
      allowedHosts: ['Dev.Lan', 'term.lan:8080', 'bücher.lan'],
    })
    const { port } = new URL(url)
    const get = (host: string) => raw(url, '/items', { host })
    for (const host of [
      'evil.example:80',
      `attacker.test:${port}`,
      'localhost.evil.example',
      '127.0.0.1.nip.io',
    ]) {
      const answer = await get(host)
      expect(answer.status).toBe(403)
      expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ reason: 'host' }] })
      expect(answer.body).not.toContain(TOKEN)
    }
    expect(reached).toBe(0)
    expect(exchanges.map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused', 'refused'])
    expect(exchanges[0]?.problems[0]).toContain('"evil.example" is not allowed')
    expect(exchanges[0]?.problems[0]).toContain('allowedHosts')
    for (const host of [
      `localhost:${port}`,
      `app.localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      '192.168.1.20:8080',
      'partner.example.com',
      `dev.lan:${port}`,
      'localhost.',
      'partner.example.com.',
      `[fe80::1%25eth0]:${port}`,
      'term.lan',
      'xn--bcher-kva.lan',
    ]) {
      expect((await get(host)).status, host).toBe(200)
    }
    expect(reached).toBe(12)
  })

  it('refuses a request whose Origin is another site or opaque: a web page cannot use the token', async () => {
    let reached = 0
    const target = await echoService()
    servers.at(-1)!.on('request', () => reached++)
    const { url, exchanges } = await start({ target })
    const post = (origin: string) =>
      fetch(`${url}/x`, { method: 'POST', headers: { origin, 'content-type': 'text/plain' }, body: 'a=1' })
    for (const origin of [
      'https://evil.example',
      'null',
      'http://127.0.0.1.evil.example:8080',
      'not a url',
      // Any site can serve its page from an address of its own.
      'http://203.0.113.7',
      'http://[2001:db8::7]:8080',
      'http://192.168.1.20:8080',
    ]) {
      const response = await post(origin)
      expect(response.status, origin).toBe(403)
      expect(await response.json()).toMatchObject({ errors: [{ reason: 'origin' }] })
    }
    expect(reached).toBe(0)
    expect(exchanges[0]?.problems[0]).toContain('Origin "https://evil.example" is not allowed')
    for (const origin of [
      'http://localhost:5173',
      'https://partner.example.com',
      'http://127.0.0.1:5173',
      'http://[::1]:5173',
    ]) {
      expect((await post(origin)).status, origin).toBe(200)
    }
    expect(reached).toBe(4)
    // A page served from the address the request goes to (a dev page on the LAN), or an allowed one.
    const statusWith = async (headers: Record<string, string>) => (await raw(url, '/x', headers)).status
    expect(await statusWith({ host: '192.168.1.20:8080', origin: 'http://192.168.1.20:5173' })).toBe(200)
    expect(await statusWith({ host: '192.168.1.20:8080', origin: 'http://192.168.1.21:5173' })).toBe(403)
    // Navigations, <img> and no-cors requests from another site carry no Origin, but Sec-Fetch-Site.
    expect(await statusWith({ 'sec-fetch-site': 'cross-site' })).toBe(403)
    expect(exchanges.at(-1)?.problems[0]).toContain('Sec-Fetch-Site: cross-site')
    expect(await statusWith({ 'sec-fetch-site': 'same-origin' })).toBe(200)
    expect(await statusWith({ 'sec-fetch-site': 'none' })).toBe(200)
    expect(reached).toBe(7)
  })

  it('answers any host with allowedHosts: true, and refuses an allowedHosts that is not a list of names', async () => {
    const { url } = await start({ target: await echoService(), allowedHosts: true })
    expect((await raw(url, '/x', { host: 'evil.example', origin: 'null' })).status).toBe(200)
    for (const allowedHosts of [
      'dev.lan',
      [''],
      [1],
      ['a b'],
      ['http://lan.box'],
      ['user@lan.box'],
      ['lan.box/'],
      false,
    ]) {
      expect(() =>
        createLocalProxy({
          target: 'http://127.0.0.1:1',
          patterns: ['.*'],
          user: USER,
          allowedHosts: allowedHosts as never,
        }),
      ).toThrow(/allowedHosts must be an array of host names, or true/)
    }
  })

  it('refuses a port the terminal does not use', async () => {
    const target = await echoService()
    const { url, exchanges } = await start({
      target,
      publicUrl: target,
      patterns: ['http://127\\.0\\.0\\.1:\\d+/.*'],
    })
    const response = await fetch(`${url}/x`)
    expect(response.status).toBe(403)
    expect(((await response.json()) as { message: string }).message).toMatch(
      /^port \d+: terminal apps may only use ports 80 and 443$/,
    )
    expect(exchanges[0]).toMatchObject({
      outcome: 'refused',
      matchedPattern: 'http://127\\.0\\.0\\.1:\\d+/.*',
    })
  })

  it('checks the URL after resolving dot segments, so `/trpc/../api` cannot pass a `/trpc/.*` pattern', async () => {
    const target = await echoService()
    const { url, exchanges } = await start({ target, patterns: ['https://partner\\.example\\.com/trpc/.*'] })
    const statusOf = async (path: string) => (await raw(url, path)).status
    expect(await statusOf('/trpc/../api/v1/inventories/stores')).toBe(403)
    expect(await statusOf('/trpc/%2e%2e/api/v1/inventories/stores')).toBe(403)
    expect(await statusOf('/trpc/whoami')).toBe(200)
    expect(exchanges.map((e) => [e.outcome, e.url])).toEqual([
      ['refused', 'https://partner.example.com/api/v1/inventories/stores'],
      ['refused', 'https://partner.example.com/api/v1/inventories/stores'],
      ['forwarded', 'https://partner.example.com/trpc/whoami'],
    ])
  })

  it('answers CONNECT (HTTPS tunnelled through the proxy) with 405 and why, instead of closing the socket', async () => {
    const { url, exchanges } = await start({ target: await echoService() })
    const { port } = new URL(url)
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'CONNECT', path: 'partner.example.com:443' })
      req.on('response', (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('connect', (res, socket) => {
        socket.destroy()
        // Node hands any answer to CONNECT to 'connect'; the status is what matters here.
        resolve({ status: res.statusCode ?? 0, body: '' })
      })
      req.on('error', reject)
      req.end()
    })
    expect(answer.status).toBe(405)
    expect(exchanges).toEqual([
      expect.objectContaining({
        method: 'CONNECT',
        outcome: 'refused',
        status: 405,
        url: 'https://partner.example.com:443',
      }),
    ])
    expect(exchanges[0]?.problems[0]).toContain("call this stand-in's own http:// address")
    expect(JSON.stringify(exchanges)).not.toContain(TOKEN)
  })

  it('refuses WebSocket', async () => {
    const { url, exchanges } = await start({ target: await echoService() })
    const { port } = new URL(url)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/socket',
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'eA==',
        },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('upgrade', () => reject(new Error('upgraded')))
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(403)
    expect(exchanges).toEqual([
      expect.objectContaining({
        outcome: 'refused',
        url: 'wss://partner.example.com/socket',
        problems: ['WebSocket is not supported by the terminal'],
      }),
    ])
  })

  it('notes a media type Evotor does not guarantee, and still forwards', async () => {
    const { url, exchanges } = await start({ target: await echoService() })
    const response = await fetch(`${url}/upload`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'bytes',
    })
    expect(response.status).toBe(200)
    expect(exchanges[0]?.problems[0]).toMatch(/Content-Type application\/octet-stream is not guaranteed/)
  })

  it('unwraps ver. 1 with the inner status and string body', async () => {
    const { url } = await start({ target: await echoService(), proxyVersion: 1 })
    const response = await fetch(`${url}/v1/thing`)
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    expect(((await response.json()) as Echo).url).toBe('/v1/thing')
  })

  it('answers 502 when the service is unreachable, 413 over the body limit', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const { url, exchanges } = await start({ target: `http://127.0.0.1:${port}`, bodyLimit: 16 })
    const unreachable = await fetch(`${url}/x`)
    expect(unreachable.status).toBe(502)
    expect(exchanges[0]?.problems[0]).toMatch(/^the service could not be reached: ECONNREFUSED/)
    const tooBig = await fetch(`${url}/x`, { method: 'POST', body: 'x'.repeat(100) })
    expect(tooBig.status).toBe(413)
  })

  it('obtains the user token through user/create, and says why when it cannot', async () => {
    const target = await echoService()
    const { url } = await start({
      target,
      user: { userId: USER.userId },
      userCreate: { appToken: 'app-secret', path: '/user/create' },
    })
    const echo = (await (await fetch(`${url}/x`)).json()) as Echo
    expect(echo.headers.authorization).toBe('Bearer created-token-1')
    expect(echo.headers['x-evotor-user-id']).toBe(USER.userId)
    const wrong = createLocalProxy({
      target,
      patterns: ['.*'],
      userCreate: { appToken: 'wrong-secret', path: '/user/create' },
    })
    const error = await wrong.listen().then(
      () => undefined,
      (e: Error) => e,
    )
    expect(error?.message).toMatch(
      /user\/create at http:\/\/127\.0\.0\.1:\d+\/user\/create answered 401 without a token/,
    )
    expect(error?.message).not.toContain('wrong-secret')
  })

  it.each([
    [{ target: 'not a url' }, /createLocalProxy: target must be an absolute http\(s\) URL/],
    [{ publicUrl: 'ftp://x' }, /createLocalProxy: publicUrl must be an absolute http\(s\) URL/],
    [
      { patterns: ['https://a\\.b/{id}'] },
      /createLocalProxy: patterns: "https:\/\/a\\\\.b\/\{id\}" at 13: .*Illegal repetition/,
    ],
    [{ patterns: ['(?i)x'] }, /createLocalProxy: patterns: .*an inline flag/],
    [{ patterns: 'x' }, /createLocalProxy: patterns must be an array of strings/],
    [{ proxyVersion: 3 }, /createLocalProxy: proxyVersion must be 1 or 2/],
    [{ user: {} }, /createLocalProxy: give user\.token, or userCreate/],
    [{ userCreate: {} }, /createLocalProxy: userCreate needs appToken or appBasic/],
    [{ bodyLimit: -1 }, /createLocalProxy: bodyLimit must be a positive integer/],
    [{ timeoutMs: 0 }, /createLocalProxy: timeoutMs must be a positive number/],
  ])('throws TypeError naming a bad option %#', (bad, message) => {
    const options = {
      target: 'http://127.0.0.1:1',
      patterns: ['.*'],
      user: USER,
      ...bad,
    } as LocalProxyOptions
    expect(() => createLocalProxy(options)).toThrow(TypeError)
    expect(() => createLocalProxy(options)).toThrow(message)
  })
})

describe('evotor-partner proxy (in-process)', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' }
    return {
      out,
      io: {
        stdout: { write: (chunk: string) => (out.stdout += chunk) },
        stderr: { write: (chunk: string) => (out.stderr += chunk) },
      },
    }
  }

  it.each([
    [[], /--target is required/],
    [['--target', 'http://127.0.0.1:1', '--user-token', 't'], /give the allowed-URL patterns/],
    [['--target', 'http://127.0.0.1:1', '--pattern', '.*'], /give --user-token \(or EVOTOR_USER_TOKEN\)/],
    [
      ['--target', 'http://127.0.0.1:1', '--pattern', '.*', '--user-token', 't', '--proxy-version', '3'],
      /1 or 2/,
    ],
    [
      ['--target', 'http://127.0.0.1:1', '--pattern', '.*', '--app-basic', 'nocolon'],
      /--app-basic must be login:password/,
    ],
    [['--nope'], /Unknown option '--nope'/],
  ])('exits 2 on a usage error %#', async (args, message) => {
    const { out, io: streams } = io()
    const code = await main(['proxy', ...args], streams)
    expect(out.stderr).toMatch(message)
    expect(out.stderr).toContain('Usage: evotor-partner proxy')
    expect(code).toBe(2)
  })

  it('exits 2 on a pattern the portal would refuse, quoting Java', async () => {
    const { out, io: streams } = io()
    const code = await main(
      ['proxy', '--target', 'http://127.0.0.1:1', '--pattern', 'a{', '--user-token', 't'],
      streams,
    )
    expect(out.stderr).toMatch(/patterns: "a\{" at 1: Java rejects this pattern \(Illegal repetition\)/)
    expect(code).toBe(2)
  })

  it('exits 2 when user/create gives no token, without printing the credential', async () => {
    const target = await echoService()
    const { out, io: streams } = io()
    const code = await main(
      ['proxy', '--target', target, '--pattern', '.*', '--user-create-path', '/user/create', '--port', '0'],
      { ...streams, env: { EVOTOR_APP_TOKEN: 'wrong-app-secret' } },
    )
    expect(out.stderr).toMatch(/user\/create at .* answered 401 without a token/)
    expect(out.stderr).not.toContain('wrong-app-secret')
    expect(code).toBe(2)
  })

  it('serves until its signal is aborted, then exits 0', async () => {
    const target = await echoService()
    const { out, io: streams } = io()
    const stop = new AbortController()
    const done = runProxyCommand(
      [
        '--target',
        target,
        '--public-url',
        PUBLIC,
        '--pattern',
        'https://partner\\.example\\.com/.*',
        '--port',
        '0',
        '--allowed-host',
        'dev.lan',
        '--json',
      ],
      { ...streams, env: { EVOTOR_USER_TOKEN: TOKEN }, signal: stop.signal },
    )
    const deadline = Date.now() + 5000
    while (!out.stderr.includes('listening on') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    const url = /listening on (http:\/\/\S+),/.exec(out.stderr)?.[1]
    expect(url).toBeDefined()
    expect((await fetch(`${url}/x`)).status).toBe(200)
    const hostStatus = async (host: string) => (await raw(url as string, '/x', { host })).status
    expect(await hostStatus('dev.lan')).toBe(200)
    expect(await hostStatus('evil.example')).toBe(403)
    stop.abort()
    expect(await done).toBe(0)
    const logged = JSON.parse(out.stdout.trim().split('\n')[0] as string) as LocalProxyExchange
    expect(logged).toMatchObject({ method: 'GET', url: `${PUBLIC}/x`, outcome: 'forwarded', status: 200 })
    expect(out.stdout + out.stderr).not.toContain(TOKEN)
  })
})
