import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import express4 from 'express4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evotorErrorHandler, evotorProxy } from '../../src/adapters/express.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { EvotorError } from '../../src/core/evotor-error.js'
import { fromProxyV1 } from '../../src/core/proxy-envelope.js'
import { proxyHeaders, type Started, serve } from './helpers/harness.js'
import { rawRequest } from './helpers/raw-http.js'

const USER = '01-000000000000001'
const SECRET = 'express4-adapter-test-secret-32-bytes!!'
const tokens = createUserTokens({ secret: SECRET })
const SECRET_DETAIL = 'internal detail of an async route'
/** What `evotorErrorHandler({ logger })` logged, `(message, fields)` per line. */
const errorLines: unknown[][] = []
const logger = { warn() {}, error: (...args: unknown[]) => void errorLines.push(args) }

/** A real Express 4 app (npm alias `express4`) with async routes behind the proxy. */
function app4(proxyVersion: 1 | 2) {
  const app = express4()
  // Express 4 is what this test is about: make sure the alias really is Express 4.
  expect(require4Version()).toMatch(/^4\./)
  app.use('/terminal', evotorProxy({ userTokens: tokens, proxyVersion }))
  app.get('/terminal/async-evotor-error', async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 1))
    throw EvotorError.paymentRequired(req.evotor?.userId ?? '')
  })
  app.get('/terminal/async-error', async () => {
    await Promise.resolve()
    throw new Error(SECRET_DETAIL)
  })
  app.get('/terminal/async-not-found', async () => {
    await Promise.resolve()
    throw Object.assign(new Error('no such receipt'), { status: 404, expose: true })
  })
  app.get('/terminal/async-ok', async (_req, res) => {
    await Promise.resolve()
    res.json({ ok: true })
  })
  app.use(evotorErrorHandler({ logger }))
  return app
}

let version: string | undefined
function require4Version(): string {
  return version ?? ''
}

describe('evotor-partner/express under a real Express 4', () => {
  let v2: Started
  let v1: Started
  let headers: Record<string, string>
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)

  beforeAll(async () => {
    const pkg = await import('express4/package.json', { with: { type: 'json' } })
    version = (pkg.default as { version: string }).version
    process.on('unhandledRejection', onUnhandled)
    headers = await proxyHeaders(tokens, USER)
    v2 = await serve(app4(2))
    v1 = await serve(app4(1))
  })
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    await Promise.all([v2.close(), v1.close()])
  })

  it('ver. 2: an async route throwing an EvotorError answers its status and Evotor body', async () => {
    const response = await fetch(`${v2.url}/terminal/async-evotor-error`, { headers })
    expect(response.status).toBe(402)
    expect(await response.json()).toEqual(EvotorError.paymentRequired(USER).toBody())
    // And the server keeps serving.
    const next = await fetch(`${v2.url}/terminal/async-ok`, { headers })
    expect(await next.json()).toEqual({ ok: true })
    expect(unhandled).toEqual([])
  })

  it('ver. 2: an async route throwing a plain Error answers 500 {} (no stack page), logged, no unhandled rejection', async () => {
    errorLines.length = 0
    const response = await fetch(`${v2.url}/terminal/async-error`, { headers })
    expect(response.status).toBe(500)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const text = await response.text()
    expect(JSON.parse(text)).toEqual({})
    expect(text).not.toContain(SECRET_DETAIL)
    expect(text).not.toMatch(/\bat \S+ \(/) // no stack frame
    expect(errorLines).toEqual([
      ['evotor-partner: proxied request failed', { error: `Error: ${SECRET_DETAIL}` }],
    ])
    expect(JSON.stringify(errorLines)).not.toContain(headers.authorization?.slice(7))
    expect(unhandled).toEqual([])
  })

  it('ver. 2: an http-errors style 4xx goes on to Express, as before', async () => {
    const response = await fetch(`${v2.url}/terminal/async-not-found`, { headers })
    expect(response.status).toBe(404)
    expect(unhandled).toEqual([])
  })

  it('ver. 1: an async EvotorError is enveloped with its status; a plain Error as 500 without internals', async () => {
    const evotor = await fetch(`${v1.url}/terminal/async-evotor-error`, { headers })
    expect(evotor.status).toBe(200)
    const envelope = fromProxyV1(await evotor.json())
    expect(envelope.status).toBe(402)
    const plain = await fetch(`${v1.url}/terminal/async-error`, { headers })
    const text = await plain.text()
    expect(plain.status).toBe(200)
    expect(JSON.parse(text)).toMatchObject({ status: 500 })
    expect(text).not.toContain(SECRET_DETAIL)
    expect(unhandled).toEqual([])
  })

  it('ver. 1: an unknown path is a wrapped 404 under the status line `HTTP/1.1 200 OK`', async () => {
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')
    const answer = await rawRequest(
      v1.url,
      `GET /terminal/nowhere HTTP/1.1\r\nhost: localhost\r\n${head}connection: close\r\n\r\n`,
    )
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK')
    expect(JSON.parse(answer.body)).toMatchObject({ status: 404 })
  })

  it('routes not behind the proxy keep Express 4 behaviour (the library patches nothing for them)', async () => {
    const app = express4()
    let handled = 0
    app.get('/plain', (_req, res) => {
      handled++
      res.send('plain')
    })
    const server = await serve(app)
    try {
      const response = await fetch(`${server.url}/plain`)
      expect(await response.text()).toBe('plain')
      expect(handled).toBe(1)
    } finally {
      await server.close()
    }
  })
})

describe('a real Express 4 process', () => {
  let child: ChildProcess
  let url: string
  let headers: Record<string, string>

  beforeAll(async () => {
    headers = await proxyHeaders(tokens, USER)
    const script = fileURLToPath(new URL('./helpers/express4-server.ts', import.meta.url))
    // Node's default: an unhandled rejection ends the process.
    child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, TOKEN_SECRET: SECRET, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
      child.once('exit', (code) => reject(new Error(`express4-server exited with ${code}`)))
    })
    url = `http://127.0.0.1:${port}`
  })
  afterAll(() => {
    if (child.exitCode === null) child.kill()
  })

  it('stays up after an async route behind the proxy throws an EvotorError, which it answers', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${url}/terminal/async-evotor-error`, { headers })
      expect(response.status).toBe(402)
      expect(await response.json()).toEqual(EvotorError.paymentRequired(USER).toBody())
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(child.exitCode).toBeNull()
    const alive = await fetch(`${url}/terminal/alive`, { headers })
    expect(await alive.json()).toEqual({ alive: true })
  })
})
