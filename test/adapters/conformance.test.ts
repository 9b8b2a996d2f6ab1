import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import type { WebhookDispatcher } from '../../src/core/http-types.js'
import { createEvotorProxy, type EvotorProxy } from '../../src/core/proxy.js'
import { createRecordingWebhooks, ENDPOINTS } from './helpers/endpoints.js'
import { HARNESSES, type Harness, SECRET_DETAIL, type Started } from './helpers/harness.js'

const USER_A = '01-000000000000001'
const USER_B = '01-000000000000002'
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'
const DEVICE = '20170222-D58C-40E0-8051-B53ADFF38860'
const APP = { authorization: 'Bearer app-secret-0123456789' }
const JSON_HEADERS = { ...APP, 'content-type': 'application/json' }

const tokens = createUserTokens({ secret: 'a-test-secret-that-is-at-least-32-bytes-long' })

function fill(size: number): string {
  return JSON.stringify({ userId: USER_A, padding: 'x'.repeat(size) })
}

function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close()
      controller.enqueue(bytes.subarray(offset, offset + 8192))
      offset += 8192
    },
  })
}

describe.each(HARNESSES)('$name adapter: webhooks', (harness: Harness) => {
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

  const post = (base: Started, body: BodyInit, headers: Record<string, string> = JSON_HEADERS) =>
    fetch(`${base.url}/api/v1/user/create`, {
      method: 'POST',
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit)

  it('answers a valid delivery with the dispatcher result as JSON', async () => {
    const response = await post(server, JSON.stringify({ userId: USER_A }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    expect(await response.json()).toEqual({ userId: USER_A, token: 'issued-token' })
    expect(dispatcher.handled.at(-1)).toEqual({ route: 'userCreate', userId: USER_A })
  })

  it('accepts application/json with any charset and case', async () => {
    const response = await post(server, JSON.stringify({ userId: USER_A }), {
      ...APP,
      'content-type': 'Application/JSON; Charset=UTF-8',
    })
    expect(response.status).toBe(200)
  })

  it('passes the query string on', async () => {
    await fetch(`${server.url}/api/v1/user/create?a=1&b=2`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{}',
    })
    expect(dispatcher.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/user/create' })
    const query = dispatcher.requests.at(-1)?.query
    const entries = query instanceof URLSearchParams ? Object.fromEntries(query) : query
    expect(entries).toMatchObject({ a: '1', b: '2' })
  })

  it('answers invalid deliveries with Evotor errors', async () => {
    const noCredential = await post(server, JSON.stringify({ userId: USER_A }), {
      'content-type': 'application/json',
    })
    expect(noCredential.status).toBe(401)
    expect(await noCredential.json()).toEqual({ errors: [{ code: 1001 }] })
    const badJson = await post(server, '{"userId": ')
    expect(badJson.status).toBe(400)
    expect(await badJson.json()).toEqual({ errors: [{ code: 2001 }] })
    const missing = await post(server, '{}')
    expect(missing.status).toBe(400)
    expect(await missing.json()).toEqual({ errors: [{ code: 2002, reason: 'missing', subject: 'userId' }] })
  })

  it('answers 413 when Content-Length is over the limit, and keeps serving', async () => {
    const response = await post(small, fill(64 * 1024))
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({})
    const after = await post(small, JSON.stringify({ userId: USER_A }))
    expect(after.status).toBe(200)
  })

  it('answers 413 when a chunked body passes the limit while streaming', async () => {
    const response = await post(small, chunked(fill(64 * 1024)))
    expect(response.headers.get('content-length')).not.toBe(null)
    expect(response.status).toBe(413)
    expect(await response.json()).toEqual({})
  })

  it('answers 413 (not a reset) to a body far over the limit, with or without Content-Length', async () => {
    const text = fill(3 * 1024 * 1024)
    for (const body of [text, chunked(text)]) {
      const response = await post(small, body)
      expect(response.status).toBe(413)
      expect(await response.json()).toEqual({})
    }
  })

  it('accepts a body just under a small limit', async () => {
    const body = fill(1024 - fill(0).length)
    expect(body.length).toBe(1024)
    expect((await post(small, body)).status).toBe(200)
    expect((await post(small, chunked(body))).status).toBe(200)
  })

  it('accepts a 5 MB body with the default limit', async () => {
    const body = fill(5 * 1024 * 1024)
    const response = await post(server, body)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ userId: USER_A, token: 'issued-token' })
    expect((dispatcher.requests.at(-1)?.body as Uint8Array | undefined)?.byteLength).toBe(body.length)
  })

  it('lets HEAD, OPTIONS and other methods reach the dispatcher (405 with Allow)', async () => {
    for (const method of ['HEAD', 'OPTIONS', 'GET', 'PATCH', 'PURGE']) {
      const response = await fetch(`${server.url}/api/v1/user/create`, { method, headers: APP })
      expect(response.status, method).toBe(405)
      expect(response.headers.get('allow'), method).toBe('POST')
      const text = await response.text()
      expect(text, method).toBe(method === 'HEAD' ? '' : '{}')
    }
  })

  it(
    harness.fallsThrough ? 'passes other paths on to the app' : 'answers 404 {} for other paths',
    async () => {
      const response = await fetch(`${server.url}/app/own`)
      if (harness.fallsThrough) {
        expect(response.status).toBe(200)
        expect(await response.json()).toEqual({ own: true })
      } else {
        expect(response.status).toBe(404)
        expect(await response.json()).toEqual({})
      }
    },
  )

  for (const parser of harness.preParsers) {
    describe(`with the framework's body parser (${parser}) mounted first`, () => {
      let parsed: Started
      beforeAll(async () => {
        parsed = await harness.webhooks(dispatcher, { preParser: parser })
      })
      afterAll(() => parsed.close())

      it('uses the body the parser produced', async () => {
        const response = await post(parsed, JSON.stringify({ userId: USER_A }), {
          ...APP,
          'content-type': 'application/json; charset=utf-8',
        })
        expect(response.status).toBe(200)
        expect(await response.json()).toMatchObject({ userId: USER_A })
        const seen = dispatcher.requests.at(-1)
        const keepsRaw = !['json', 'koa-body'].includes(parser)
        expect(seen?.parsedBody).toBe(!keepsRaw)
        if (keepsRaw)
          expect(String(Buffer.from(seen?.body as string))).toBe(JSON.stringify({ userId: USER_A }))
      })

      it('answers bad JSON with 400/2001', async () => {
        // koa-body rejects bad JSON itself before the webhooks middleware runs (mount it after instead).
        if (parser.startsWith('koa-body')) return
        const response = await post(parsed, '{"userId": ')
        expect(response.status).toBe(400)
        expect(await response.json()).toEqual({ errors: [{ code: 2001 }] })
      })
    })
  }
})

describe.each(HARNESSES)('$name adapter: every webhook endpoint', (harness: Harness) => {
  let server: Started
  let userToken: string
  const dispatcher = createRecordingWebhooks(tokens)

  beforeAll(async () => {
    server = await harness.webhooks(dispatcher)
    userToken = await tokens.issue(USER_A)
  })
  afterAll(() => server.close())

  const call = (
    endpoint: (typeof ENDPOINTS)[number],
    body: string,
    authorization?: string,
    path = endpoint.path,
  ) => {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }
    if (authorization !== undefined) headers.authorization = authorization
    return fetch(`${server.url}${path}`, {
      method: endpoint.method,
      headers,
      ...(endpoint.method === 'GET' ? {} : { body }),
    })
  }
  const credential = (endpoint: (typeof ENDPOINTS)[number]) =>
    endpoint.credential === 'app' ? 'Bearer app-secret-0123456789' : `Bearer ${userToken}`

  it.each(ENDPOINTS)('$route: a valid delivery reaches its handler with 200', async (endpoint) => {
    const response = await call(endpoint, endpoint.body, credential(endpoint))
    expect(response.status).toBe(200)
    expect(dispatcher.handled.at(-1)?.route).toBe(endpoint.route)
    if (endpoint.credential === 'user') expect(dispatcher.handled.at(-1)?.userId).toBe(USER_A)
  })

  const EVENTS = new Set(['subscriptionEvent', 'installationEvent'])
  it.each(ENDPOINTS.filter((e) => !EVENTS.has(e.route)))(
    '$route: a missing field answers 400/2002',
    async (endpoint) => {
      // GET commodities: the query string is the request, so "missing" drops it.
      const response = await call(
        endpoint,
        endpoint.missing,
        credential(endpoint),
        endpoint.path.replace(/\?.*$/, ''),
      )
      expect(response.status).toBe(400)
      const body = (await response.json()) as { errors: Array<{ code: number; subject: string }> }
      expect(body.errors[0]).toMatchObject({ code: 2002, reason: 'missing', subject: endpoint.subject })
    },
  )

  // Event routes answer 200 only (protocol §5.3): a broken event is acknowledged and handed to unknownEvent.
  it.each(ENDPOINTS.filter((e) => EVENTS.has(e.route)))(
    '$route: a missing field is acknowledged with 200, not retried for three days',
    async (endpoint) => {
      const response = await call(endpoint, endpoint.missing, credential(endpoint))
      expect(response.status).toBe(200)
    },
  )

  it.each(ENDPOINTS.filter((e) => e.method !== 'GET'))(
    '$route: bad JSON answers 400/2001',
    async (endpoint) => {
      const response = await call(endpoint, `${endpoint.body.slice(0, 20)}`, credential(endpoint))
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ errors: [{ code: 2001 }] })
    },
  )

  it.each(ENDPOINTS)('$route: no credential answers 401', async (endpoint) => {
    const before = dispatcher.handled.length
    const response = await call(endpoint, endpoint.body)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ errors: [{ code: endpoint.credential === 'app' ? 1001 : 1002 }] })
    expect(dispatcher.handled.length).toBe(before)
  })

  it('answers (does not hang) when the dispatcher itself fails', async () => {
    const broken: WebhookDispatcher = {
      matches: () => true,
      handle: () => Promise.reject(new Error(SECRET_DETAIL)),
    }
    const app = await harness.webhooks(broken)
    try {
      const response = await fetch(`${app.url}/api/v1/user/create`, { method: 'POST', body: '{}' })
      expect(response.status).toBe(500)
    } finally {
      await app.close()
    }
  })
})

async function envelope(response: Response): Promise<{ status: number; body: unknown }> {
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8')
  const text = await response.text()
  expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text))
  return JSON.parse(text) as { status: number; body: unknown }
}

describe.each(HARNESSES)('$name adapter: proxy', (harness: Harness) => {
  let v1: Started
  let v2: Started
  let headersA: Record<string, string>

  beforeAll(async () => {
    const token = await tokens.issue(USER_A)
    headersA = {
      authorization: `Bearer ${token}`,
      'x-evotor-store-uuid': STORE,
      'x-evotor-device-uuid': DEVICE,
      'x-evotor-user-id': USER_A,
    }
    const v2Proxy: EvotorProxy = createEvotorProxy({ userTokens: tokens })
    v1 = await harness.proxy(createEvotorProxy({ userTokens: tokens, proxyVersion: 1 }))
    v2 = await harness.proxy(v2Proxy)
  })
  afterAll(async () => {
    await v1.close()
    await v2.close()
  })

  const get = (base: Started, path: string, headers = headersA) => fetch(`${base.url}${path}`, { headers })

  it('answers forged X-Evotor-* headers without a token with 401/1002', async () => {
    const { authorization: _, ...forged } = headersA
    const response = await get(v2, '/api/json', forged)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ errors: [{ code: 1002 }] })
  })

  it("answers a valid token of user A with user B's id with 401/1002", async () => {
    const response = await get(v2, '/api/json', { ...headersA, 'x-evotor-user-id': USER_B })
    expect(response.status).toBe(401)
    const body = await response.json()
    expect(body).toEqual({ errors: [{ code: 1002 }] })
    expect(JSON.stringify(body)).not.toContain(USER_A)
  })

  it('answers a missing store header with 400/2002', async () => {
    const { 'x-evotor-store-uuid': _, ...rest } = headersA
    const response = await get(v2, '/api/json', rest)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      errors: [{ code: 2002, reason: 'missing', subject: 'X-Evotor-Store-Uuid' }],
    })
  })

  it('ver. 2: exposes the verified context and leaves responses untouched', async () => {
    const json = await get(v2, '/api/json')
    expect(json.status).toBe(200)
    expect(await json.json()).toEqual({ userId: USER_A, storeUuid: STORE, stored: true })
    const text = await get(v2, '/api/text')
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await text.text()).toBe('plain text')
    expect(await (await get(v2, '/api/stream')).text()).toBe('stream')
    expect((await get(v2, '/api/nothing-here')).status).toBe(404)
  })

  it('ver. 2: renders a thrown EvotorError as the Evotor body', async () => {
    const response = await get(v2, '/api/evotor-error')
    expect(response.status).toBe(402)
    expect(await response.json()).toEqual({
      errors: [{ code: 1004, reason: 'payment required', subject: 'userUuid', value: USER_A }],
    })
  })

  it('ver. 1: wraps a 200 JSON answer', async () => {
    const { status, body } = await envelope(await get(v1, '/api/json'))
    expect(status).toBe(200)
    expect(JSON.parse(body as string)).toEqual({ userId: USER_A, storeUuid: STORE, stored: true })
  })

  it('ver. 1: wraps text and streamed bodies', async () => {
    expect(await envelope(await get(v1, '/api/text'))).toEqual({ status: 200, body: 'plain text' })
    expect(await envelope(await get(v1, '/api/stream'))).toEqual({ status: 200, body: 'stream' })
  })

  it("ver. 1: wraps the framework's 404", async () => {
    expect(await envelope(await get(v1, '/api/nothing-here'))).toEqual({ status: 404, body: '{}' })
  })

  it('ver. 1: wraps a thrown error as 500 without internals', async () => {
    const response = await get(v1, '/api/throw')
    const text = await response.clone().text()
    expect(text).not.toContain(SECRET_DETAIL)
    expect(await envelope(response)).toEqual({ status: 500, body: '{}' })
  })

  it('ver. 1: wraps a thrown EvotorError with its status and body', async () => {
    const { status, body } = await envelope(await get(v1, '/api/evotor-error'))
    expect(status).toBe(402)
    expect(JSON.parse(body as string)).toMatchObject({ errors: [{ code: 1004, value: USER_A }] })
  })

  it('ver. 1: wraps authentication failures too', async () => {
    const { authorization: _, ...forged } = headersA
    const { status, body } = await envelope(await get(v1, '/api/json', forged))
    expect(status).toBe(401)
    expect(JSON.parse(body as string)).toEqual({ errors: [{ code: 1002 }] })
  })
})
