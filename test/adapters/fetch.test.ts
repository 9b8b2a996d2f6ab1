import { describe, expect, it } from 'vitest'
import * as expressAdapter from '../../src/adapters/express.js'
import { createEvotorWebhooksHandler, withEvotorProxy } from '../../src/adapters/fetch.js'
import * as koaAdapter from '../../src/adapters/koa.js'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { getEvotorContext } from '../../src/core/evotor-context.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { createRecordingWebhooks } from './helpers/endpoints.js'

const USER = '01-000000000000001'
const tokens = createUserTokens({ secret: 'fetch-adapter-test-secret-32-bytes-long' })

async function headersFor(): Promise<Record<string, string>> {
  return {
    authorization: `Bearer ${await tokens.issue(USER)}`,
    'x-evotor-user-id': USER,
    'x-evotor-store-uuid': 'store-1',
    'x-evotor-device-uuid': 'device-1',
  }
}

describe('evotor-partner/fetch', () => {
  it('ver. 1 keeps response headers such as Set-Cookie and drops the inner content headers', async () => {
    const handler = withEvotorProxy({ userTokens: tokens, proxyVersion: 1 }, (request, evotor) => {
      expect(getEvotorContext(request)).toBe(evotor)
      return new Response('hi', {
        status: 202,
        headers: { 'set-cookie': 'a=1', 'content-type': 'text/plain' },
      })
    })
    const response = await handler(new Request('http://localhost/x', { headers: await headersFor() }))
    expect(response.status).toBe(200)
    expect(response.headers.get('set-cookie')).toBe('a=1')
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8')
    expect(await response.json()).toEqual({ status: 202, body: 'hi' })
  })

  it('ver. 2 passes the Response through and re-throws errors that are not EvotorErrors', async () => {
    const original = new Response('as is', { status: 418 })
    const pass = withEvotorProxy(createEvotorProxy({ userTokens: tokens }), () => original)
    expect(await pass(new Request('http://localhost/', { headers: await headersFor() }))).toBe(original)
    const failing = withEvotorProxy({ userTokens: tokens }, () => {
      throw new Error('not ours')
    })
    await expect(failing(new Request('http://localhost/', { headers: await headersFor() }))).rejects.toThrow(
      'not ours',
    )
  })

  it('ver. 2 with a cached token returns the route’s Response itself, not a promise; errors still reject', async () => {
    const original = new Response('as is')
    const pass = withEvotorProxy({ userTokens: tokens }, () => original)
    const headers = await headersFor()
    // The first request verifies the token (a promise); the next ones find it cached.
    expect(await pass(new Request('http://localhost/', { headers }))).toBe(original)
    expect(pass(new Request('http://localhost/', { headers }))).toBe(original)
    const later = withEvotorProxy({ userTokens: tokens }, async () => original)
    expect(later(new Request('http://localhost/', { headers }))).toBeInstanceOf(Promise)
    const failing = withEvotorProxy({ userTokens: tokens }, () => {
      throw new Error('not ours')
    })
    await Promise.resolve(failing(new Request('http://localhost/', { headers }))).catch(() => undefined)
    const result = failing(new Request('http://localhost/', { headers }))
    expect(result).toBeInstanceOf(Promise)
    await expect(result).rejects.toThrow('not ours')
    const refused = withEvotorProxy({ userTokens: tokens }, () => original)
    const answer = await refused(
      new Request('http://localhost/', { headers: { ...headers, authorization: 'Bearer x' } }),
    )
    expect(answer.status).toBe(401)
  })

  it('an enveloped answer declares its length in UTF-8 bytes, and HEAD the same length with no body', async () => {
    const text = 'чек № 5 😀 \ud800 "quoted"'
    const handler = withEvotorProxy({ userTokens: tokens, proxyVersion: 1 }, () => new Response(text))
    const response = await handler(new Request('http://localhost/x', { headers: await headersFor() }))
    const bytes = new Uint8Array(await response.arrayBuffer())
    expect(Number(response.headers.get('content-length'))).toBe(bytes.byteLength)
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({
      status: 200,
      body: text.replace('\ud800', '\ufffd'),
    })
    const head = await handler(
      new Request('http://localhost/x', { method: 'HEAD', headers: await headersFor() }),
    )
    expect(head.headers.get('content-length')).toBe(String(bytes.byteLength))
    expect(head.body).toBe(null)
  })

  it('HEAD answers carry no body', async () => {
    const handler = createEvotorWebhooksHandler(createRecordingWebhooks(tokens))
    const response = await handler(new Request('http://localhost/api/v1/user/create', { method: 'HEAD' }))
    expect(response.status).toBe(405)
    expect(response.body).toBe(null)
  })
})

describe('adapter options', () => {
  const webhooks = createRecordingWebhooks(tokens)

  it.each([
    ['koa', (o: object) => koaAdapter.evotorWebhooks(webhooks, o)],
    ['express', (o: object) => expressAdapter.evotorWebhooks(webhooks, o)],
    ['fetch', (o: object) => createEvotorWebhooksHandler(webhooks, o)],
  ])('%s: rejects a bad bodyLimit and a non-dispatcher with TypeErrors naming them', (_name, create) => {
    for (const bodyLimit of [0, -1, 1.5, '10mb', Number.NaN]) {
      expect(() => create({ bodyLimit })).toThrow(TypeError)
      expect(() => create({ bodyLimit })).toThrow(/bodyLimit/)
    }
    const options = Object.freeze({ bodyLimit: 1024 })
    expect(typeof create(options)).toBe('function')
    expect(() => koaAdapter.evotorWebhooks({} as never)).toThrow(/webhooks/)
    expect(() => expressAdapter.evotorWebhooks({} as never)).toThrow(/webhooks/)
    expect(() => createEvotorWebhooksHandler({} as never)).toThrow(/webhooks/)
  })

  it('proxy middlewares build the proxy from options and reject bad ones', () => {
    expect(() => koaAdapter.evotorProxy({} as never)).toThrow(/userTokens/)
    expect(() => expressAdapter.evotorProxy({ userTokens: tokens, proxyVersion: 3 as never })).toThrow(
      /proxyVersion/,
    )
    expect(() => withEvotorProxy({ userTokens: tokens }, 'nope' as never)).toThrow(/handler/)
    expect(koaAdapter.evotorProxy({ userTokens: tokens }).name).toBe('evotorProxyMiddleware')
    expect(expressAdapter.evotorWebhooks(webhooks).name).toBe('evotorWebhooksMiddleware')
  })
})

describe('subpath re-exports', () => {
  it('every adapter re-exports the one EvotorError class and the context helpers', async () => {
    const core = await import('../../src/core/evotor-error.js')
    const context = await import('../../src/core/evotor-context.js')
    const fetchAdapter = await import('../../src/adapters/fetch.js')
    for (const adapter of [koaAdapter, expressAdapter, fetchAdapter]) {
      expect(adapter.EvotorError).toBe(core.EvotorError)
      expect(adapter.isEvotorError).toBe(core.isEvotorError)
      expect(adapter.requireEvotorContext).toBe(context.requireEvotorContext)
      expect(adapter.getEvotorContext).toBe(context.getEvotorContext)
      expect(adapter.createEvotorTrpcContext).toBe(context.createEvotorTrpcContext)
    }
  })
})
