import http from 'node:http'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorProxy, getEvotorContext, withEvotorProxy } from '../../src/adapters/express.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { proxyHeaders, type Started, serve } from './helpers/harness.js'

const A = '01-000000000000001'
const B = '01-000000000000002'
const tokens = createUserTokens({ secret: 'express-context-test-secret-32-bytes!!' })

// `req.evotor` is kept beside the request (a WeakMap) and read through an accessor on the app's
// request prototype (see src/adapters/express-context.ts): these pin what routes see.
describe('evotor-partner/express: where req.evotor lives', () => {
  let server: Started
  let headersA: Record<string, string>
  let headersB: Record<string, string>

  beforeAll(async () => {
    headersA = await proxyHeaders(tokens, A, 'Store-A')
    headersB = await proxyHeaders(tokens, B, 'Store-B')
    const app = express()
    // A route before the proxy: no context yet.
    app.get('/open', (req, res) => {
      res.json({ evotor: req.evotor ?? null, context: getEvotorContext(req) ?? null, keys: Object.keys(req) })
    })
    const sub = express()
    sub.get('/who', (req, res) => {
      res.json({ user: req.evotor?.userId ?? null, viaContext: getEvotorContext(req)?.userId ?? null })
    })
    app.use('/terminal', evotorProxy({ userTokens: tokens }))
    app.get('/terminal/who', async (req, res) => {
      // Read after an await: another request's context must not have replaced this one's.
      const before = req.evotor?.userId
      await new Promise((resolve) => setTimeout(resolve, 20))
      res.json({
        before,
        after: req.evotor?.userId,
        viaContext: getEvotorContext(req)?.userId,
        ownKey: Object.hasOwn(req, 'evotor'),
        json: JSON.parse(JSON.stringify({ ...req.evotor })).userId,
      })
    })
    app.get('/terminal/assigned', (req, res) => {
      // A route may still assign req.evotor itself; the verified context stays what getEvotorContext gives.
      ;(req as { evotor?: unknown }).evotor = { userId: 'forged' }
      res.json({ evotor: req.evotor, viaContext: getEvotorContext(req)?.userId })
    })
    app.use('/sub', evotorProxy({ userTokens: tokens }), sub)
    server = await serve(app)
  })
  afterAll(() => server.close())

  it('each concurrent request sees its own verified user', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${server.url}/terminal/who`, { headers: i % 2 === 0 ? headersA : headersB }).then(
          async (r) => ({ i, body: (await r.json()) as Record<string, unknown> }),
        ),
      ),
    )
    for (const { i, body } of results) {
      const user = i % 2 === 0 ? A : B
      expect(body).toEqual({ before: user, after: user, viaContext: user, ownKey: false, json: user })
    }
  })

  it('a route not behind the proxy sees no context, and the request gets no evotor key', async () => {
    const response = await fetch(`${server.url}/open`, { headers: headersA })
    const body = (await response.json()) as { evotor: unknown; context: unknown; keys: string[] }
    expect(body.evotor).toBeNull()
    expect(body.context).toBeNull()
    expect(body.keys).not.toContain('evotor')
  })

  it("a route's own assignment shows in req.evotor, never in getEvotorContext", async () => {
    const response = await fetch(`${server.url}/terminal/assigned`, { headers: headersA })
    expect(await response.json()).toEqual({ evotor: { userId: 'forged' }, viaContext: A })
  })

  it('a mounted sub-app (another request prototype) sees the context too', async () => {
    const response = await fetch(`${server.url}/sub/who`, { headers: headersB })
    expect(await response.json()).toEqual({ user: B, viaContext: B })
  })

  it('on a request without an Express prototype it sets a plain property', async () => {
    const middleware = evotorProxy({ userTokens: tokens })
    const plain = http.createServer((req, res) => {
      middleware(req as express.Request, res as express.Response, (error?: unknown) => {
        const r = req as http.IncomingMessage & { evotor?: { userId: string } }
        res.end(
          JSON.stringify({ error: error ?? null, own: Object.hasOwn(r, 'evotor'), user: r.evotor?.userId }),
        )
      })
    })
    const started = await new Promise<http.Server>((resolve) =>
      plain.listen(0, '127.0.0.1', () => resolve(plain)),
    )
    try {
      const { port } = started.address() as { port: number }
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: headersA })
      expect(await response.json()).toEqual({ error: null, own: true, user: A })
    } finally {
      await new Promise((resolve) => started.close(resolve))
    }
  })

  describe('edge cases (from a review against the own-property version)', () => {
    const started: Started[] = []
    afterAll(() => Promise.all(started.map((x) => x.close())))
    const run = async (app: express.Express, path: string) => {
      const s = await serve(app)
      started.push(s)
      const response = await fetch(`${s.url}${path}`, { headers: headersA })
      return { status: response.status, body: await response.json() }
    }

    it('a req.evotor set before the proxy ran is written over with the verified context', async () => {
      const forged = express()
      forged.use((req, _res, next) => {
        ;(req as { evotor?: unknown }).evotor = { userId: B }
        next()
      })
      forged.get(
        '/t',
        withEvotorProxy({ userTokens: tokens, requiredHeaders: ['storeUuid'] }, (req, res) => {
          res.json({
            evotor: req.evotor.userId,
            store: req.evotor.storeUuid,
            context: getEvotorContext(req)?.userId,
          })
        }),
      )
      expect(await run(forged, '/t')).toEqual({
        status: 200,
        body: { evotor: A, store: 'Store-A', context: A },
      })
      const cleared = express()
      cleared.use((req, _res, next) => {
        ;(req as { evotor?: unknown }).evotor = undefined
        next()
      })
      cleared.get(
        '/t',
        withEvotorProxy({ userTokens: tokens, requiredHeaders: ['storeUuid'] }, (req, res) => {
          res.json({ store: req.evotor.storeUuid })
        }),
      )
      expect(await run(cleared, '/t')).toEqual({ status: 200, body: { store: 'Store-A' } })
    })

    it('a proxy inside a mounted app: req.evotor still reads in the parent after the request left it', async () => {
      const parent = express()
      const sub = express()
      sub.use(evotorProxy({ userTokens: tokens }))
      sub.get('/t', (_req, _res, next) => next())
      parent.use('/p', sub)
      parent.get('/p/t', (req, res) => {
        res.json({ evotor: req.evotor?.userId ?? null, context: getEvotorContext(req)?.userId ?? null })
      })
      expect(await run(parent, '/p/t')).toEqual({ status: 200, body: { evotor: A, context: A } })
    })

    it('a frozen app.request gets a plain property instead of the accessor', async () => {
      const frozen = express()
      Object.freeze(frozen.request)
      frozen.get('/t', evotorProxy({ userTokens: tokens }), (req, res) => {
        res.json({ evotor: req.evotor?.userId ?? null, context: getEvotorContext(req)?.userId ?? null })
      })
      expect(await run(frozen, '/t')).toEqual({ status: 200, body: { evotor: A, context: A } })
    })
  })
})
