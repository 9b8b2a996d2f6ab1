import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorErrorHandler, evotorProxy, evotorWebhooks } from '../../src/adapters/express.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../src/core/evotor-error.js'
import { createRecordingWebhooks } from './helpers/endpoints.js'
import { proxyHeaders, type Started, serve } from './helpers/harness.js'

const USER = '01-000000000000001'
const tokens = createUserTokens({ secret: 'express-adapter-test-secret-32-bytes!!' })

describe('evotor-partner/express', () => {
  let webhooksFirst: Started
  let v1: Started
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = await proxyHeaders(tokens, USER)
    const app = express()
    app.use(evotorWebhooks(createRecordingWebhooks(tokens)), express.json())
    app.post('/elsewhere', (req, res) => {
      res.json({ echo: req.body })
    })
    app.get('/evotor-error', () => {
      throw EvotorError.deviceNotLicensed('device-1')
    })
    app.get('/other-error', () => {
      throw new Error('not ours')
    })
    app.use(evotorErrorHandler())
    app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(418).send('next handler')
    })
    webhooksFirst = await serve(app)

    const one = express()
    one.use(evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
    one.get('/raw', (_req, res) => {
      res.writeHead(201, { 'x-custom': 'kept', 'content-type': 'text/plain' })
      res.write('chunk-1 ')
      res.write(Buffer.from('chunk-2 '))
      res.end('end', () => {})
    })
    v1 = await serve(one)
  })
  afterAll(async () => {
    await Promise.all([webhooksFirst.close(), v1.close()])
  })

  it('mounted before express.json(): reads webhook bodies itself and leaves other routes to the parser', async () => {
    const bad = await fetch(`${webhooksFirst.url}/api/v1/user/create`, {
      method: 'POST',
      headers: { authorization: 'Bearer app-secret-0123456789', 'content-type': 'application/json' },
      body: '{"userId":',
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ errors: [{ code: 2001 }] })
    const other = await fetch(`${webhooksFirst.url}/elsewhere`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    })
    expect(await other.json()).toEqual({ echo: { x: 1 } })
  })

  it('evotorErrorHandler renders EvotorErrors and passes other errors on', async () => {
    const evotor = await fetch(`${webhooksFirst.url}/evotor-error`)
    expect(evotor.status).toBe(405)
    const body = await evotor.json()
    expect(body).toMatchObject({ errors: [{ code: 1005, value: 'device-1' }] })
    expect(body).toEqual(EvotorError.deviceNotLicensed('device-1').toBody())
    const other = await fetch(`${webhooksFirst.url}/other-error`)
    expect(other.status).toBe(418)
    expect(await other.text()).toBe('next handler')
  })

  it('ver. 1: captures writeHead, several writes and end into one envelope, keeping other headers', async () => {
    const response = await fetch(`${v1.url}/raw`, { headers })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-custom')).toBe('kept')
    expect(await response.json()).toEqual({ status: 201, body: 'chunk-1 chunk-2 end' })
  })
})

describe('evotor-partner/express proxy internals', () => {
  let app: Started
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = await proxyHeaders(tokens, USER)
    const server = express() // ETag on (the default): res.send hands end() a Buffer
    const v1 = express.Router()
    // Another middleware's own res.end (compression, loggers do this) must survive the envelope.
    v1.use((_req, res, next) => {
      const end = res.end
      res.end = function loggingEnd(this: typeof res, ...args: unknown[]) {
        res.setHeader('x-logged', 'yes')
        return (end as (...a: unknown[]) => typeof res).apply(this, args)
      } as typeof res.end
      next()
    })
    v1.use(evotorProxy({ userTokens: tokens, proxyVersion: 1 }))
    v1.get('/json', (_req, res) => {
      res.json({ long: 'x'.repeat(2000), text: 'привет' })
    })
    v1.get('/hex', (_req, res) => {
      res.setHeader('content-type', 'text/plain')
      res.write('6869', 'hex')
      res.end(' there', 'utf8')
    })
    v1.get('/end-twice', (_req, res) => {
      res.status(202).end('once')
      res.end('twice')
    })
    server.use('/v1', v1)
    app = await serve(server)
  })
  afterAll(async () => {
    await app.close()
  })

  it('ver. 2: a cached token goes on to next() in the same tick; an uncached one after verifying', async () => {
    const fresh = createUserTokens({ secret: 'express-adapter-test-secret-32-bytes!!' })
    const token = await fresh.issue(USER)
    const server = express()
    const seen: string[] = []
    server.use((req, res, next) => {
      let sameTick = true
      queueMicrotask(() => {
        sameTick = false
      })
      evotorProxy({ userTokens: fresh })(req, res, () => {
        seen.push(sameTick ? 'same' : 'later')
        next()
      })
    })
    server.get('/', (req, res) => {
      res.json({ user: req.evotor?.userId })
    })
    const started = await serve(server)
    try {
      const sent = { ...headers, authorization: `Bearer ${token}` }
      for (let i = 0; i < 2; i++) {
        const response = await fetch(started.url, { headers: sent })
        expect(await response.json()).toEqual({ user: USER })
      }
      expect(seen).toEqual(['later', 'same'])
    } finally {
      await started.close()
    }
  })

  it('ver. 1: a Buffer body (ETag on), non-UTF-8 chunk encodings, and an own res.end restored', async () => {
    const json = await fetch(`${app.url}/v1/json`, { headers })
    expect(json.status).toBe(200)
    expect(json.headers.get('x-logged')).toBe('yes')
    expect(json.headers.get('etag')).toBeNull()
    const envelope = (await json.json()) as { status: number; body: string }
    expect(envelope.status).toBe(200)
    expect(JSON.parse(envelope.body)).toEqual({ long: 'x'.repeat(2000), text: 'привет' })
    const hex = await fetch(`${app.url}/v1/hex`, { headers })
    expect(await hex.json()).toEqual({ status: 200, body: 'hi there' })
    const twice = await fetch(`${app.url}/v1/end-twice`, { headers })
    expect(await twice.json()).toEqual({ status: 202, body: 'once' })
  })
})

describe('evotor-partner/express ver. 1 envelope with other middleware around it', () => {
  let server: Started
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = await proxyHeaders(tokens, USER)
    const app = express()
    const proxy = evotorProxy({ userTokens: tokens, proxyVersion: 1 })
    // Mounted twice on one request: app level and again on a router.
    app.use('/twice', proxy)
    const router = express.Router()
    router.use(proxy)
    router.get('/x', (_req, res) => {
      res.json({ ok: true })
    })
    app.use('/twice', router)
    // A middleware after the proxy that patches writeHead (like on-headers / response-time).
    app.use('/late', proxy, (_req, res, next) => {
      const writeHead = res.writeHead
      res.writeHead = function (this: express.Response, ...args: unknown[]) {
        this.setHeader('x-late-patch', 'yes')
        return writeHead.apply(this, args as never)
      } as never
      next()
    })
    app.get('/late/x', (_req, res) => {
      res.json({ late: true })
    })
    // A compressor would read Accept-Encoding; the envelope must stay readable text.
    app.get('/encoding', proxy, (req, res) => {
      res.json({ acceptEncoding: req.headers['accept-encoding'] ?? null })
    })
    server = await serve(app)
  })
  afterAll(() => server.close())

  it('answers once, with one envelope, when mounted twice', async () => {
    const res = await fetch(`${server.url}/twice/x`, { headers, signal: AbortSignal.timeout(3000) })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 200, body: '{"ok":true}' })
  })

  it('keeps the work of a middleware that patched the response after it', async () => {
    const res = await fetch(`${server.url}/late/x`, { headers })
    expect(await res.json()).toEqual({ status: 200, body: '{"late":true}' })
    expect(res.headers.get('x-late-patch')).toBe('yes')
  })

  it('hides Accept-Encoding from downstream so no compressor encodes the inner body', async () => {
    const res = await fetch(`${server.url}/encoding`, { headers: { ...headers, 'accept-encoding': 'gzip' } })
    expect(await res.json()).toEqual({ status: 200, body: '{"acceptEncoding":null}' })
  })
})
