import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as expressAdapter from '../../src/adapters/express.js'
import * as fetchAdapter from '../../src/adapters/fetch.js'
import * as koaAdapter from '../../src/adapters/koa.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { createRecordingWebhooks } from './helpers/endpoints.js'
import { HARNESSES, type Harness, type Started } from './helpers/harness.js'
import { rawRequest, uploadChunked } from './helpers/raw-http.js'

const tokens = createUserTokens({ secret: 'a-test-secret-that-is-at-least-32-bytes-long' })
const USER = '01-000000000000001'
const BODY = JSON.stringify({ userId: USER })

function head(headers: Record<string, string>): string {
  const lines = Object.entries({
    host: '127.0.0.1',
    authorization: 'Bearer app-secret-0123456789',
    'content-type': 'application/json',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`)
  return `POST /api/v1/user/create HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

describe.each(HARNESSES)('$name adapter: bodies on a clock', (harness: Harness) => {
  let server: Started
  const dispatcher = createRecordingWebhooks(tokens)

  beforeAll(async () => {
    server = await harness.webhooks(dispatcher, { bodyTimeoutMs: 300 })
  })
  afterAll(() => server.close())

  it('answers 408 with Connection: close to a body declared and never sent, and ends the connection', async () => {
    const before = dispatcher.requests.length
    const answer = await rawRequest(server.url, head({ 'content-length': '64' }), { awaitClose: true })
    expect(answer.status).toBe(408)
    expect(answer.headers.connection).toBe('close')
    expect(JSON.parse(answer.body)).toEqual({})
    expect(answer.closed).toBe(true)
    expect(dispatcher.requests.length).toBe(before)
  })

  it('answers 408 to a body trickled a byte at a time (Content-Length), and ends the connection', async () => {
    const answer = await rawRequest(server.url, head({ 'content-length': '1000' }), {
      trickle: { piece: ' ', everyMs: 50 },
      awaitClose: true,
    })
    expect(answer.status).toBe(408)
    expect(answer.headers.connection).toBe('close')
    expect(answer.closed).toBe(true)
  })

  it('answers 408 to a chunked body trickled a byte at a time, and ends the connection', async () => {
    const answer = await rawRequest(server.url, head({ 'transfer-encoding': 'chunked' }), {
      trickle: { piece: '1\r\n \r\n', everyMs: 50 },
      awaitClose: true,
    })
    expect(answer.status).toBe(408)
    expect(answer.closed).toBe(true)
  })

  it('answers 408 to a chunked body that stops halfway', async () => {
    const answer = await rawRequest(
      server.url,
      `${head({ 'transfer-encoding': 'chunked' })}${(10).toString(16)}\r\n{"userId":`,
      { awaitClose: true },
    )
    expect(answer.status).toBe(408)
    expect(answer.closed).toBe(true)
  })

  it('still reads a body that arrives in time, and keeps the connection open for it', async () => {
    const answer = await rawRequest(server.url, `${head({ 'content-length': String(BODY.length) })}${BODY}`)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ userId: USER, token: 'issued-token' })
    expect(answer.headers.connection).not.toBe('close')
  })
})

describe.each(HARNESSES)('$name adapter: early answers are read, not reset', (harness: Harness) => {
  let server: Started
  let small: Started
  const dispatcher = createRecordingWebhooks(tokens)

  beforeAll(async () => {
    server = await harness.webhooks(dispatcher)
    small = await harness.webhooks(dispatcher, { bodyLimit: 1024 })
  })
  afterAll(async () => {
    await server.close()
    await small.close()
  })

  it('ten 20 MB chunked uploads in a row each read their 413 (default 10 MB limit)', {
    timeout: 120_000,
  }, async () => {
    for (let i = 0; i < 10; i++) {
      const result = await uploadChunked(
        server.url,
        head({ 'transfer-encoding': 'chunked' }),
        20 * 1024 * 1024,
      )
      expect(result.error, `upload ${i}`).toBeUndefined()
      expect(result.written, `upload ${i}`).toBe(20 * 1024 * 1024)
      expect(result.answer?.status, `upload ${i}`).toBe(413)
      expect(result.answer?.headers.connection, `upload ${i}`).toBe('close')
      expect(JSON.parse(result.answer?.body ?? ''), `upload ${i}`).toEqual({})
    }
    expect(dispatcher.requests.length).toBe(0)
  })

  it('a 20 MB upload past a 1 KB limit, and one declared by Content-Length, read their 413', {
    timeout: 60_000,
  }, async () => {
    const chunked = await uploadChunked(small.url, head({ 'transfer-encoding': 'chunked' }), 20 * 1024 * 1024)
    expect(chunked.error).toBeUndefined()
    expect(chunked.answer?.status).toBe(413)
    const declared = await rawRequest(small.url, head({ 'content-length': String(100 * 1024 * 1024) }), {
      awaitClose: true,
    })
    expect(declared.status).toBe(413)
    expect(declared.headers.connection).toBe('close')
    expect(declared.closed).toBe(true)
  })

  it('keeps serving after the early answers', async () => {
    const answer = await rawRequest(small.url, `${head({ 'content-length': String(BODY.length) })}${BODY}`)
    expect(answer.status).toBe(200)
  })
})

describe('bodyTimeoutMs option', () => {
  const dispatcher = createRecordingWebhooks(tokens)
  const factories = [
    ['koa evotorWebhooks', (o: object) => koaAdapter.evotorWebhooks(dispatcher, o)],
    ['express evotorWebhooks', (o: object) => expressAdapter.evotorWebhooks(dispatcher, o)],
    [
      'fetch createEvotorWebhooksHandler',
      (o: object) => fetchAdapter.createEvotorWebhooksHandler(dispatcher, o),
    ],
  ] as const

  it.each(factories)('%s: a bad value is a TypeError naming the option', (_name, create) => {
    for (const bad of [0, -1, 1.5, Number.NaN, '5000', 2 ** 31, null]) {
      expect(() => create({ bodyTimeoutMs: bad }), String(bad)).toThrow(TypeError)
      expect(() => create({ bodyTimeoutMs: bad }), String(bad)).toThrow(/bodyTimeoutMs/)
    }
    expect(() => create({ bodyTimeoutMs: 1 })).not.toThrow()
    expect(() => create({})).not.toThrow()
  })
})
