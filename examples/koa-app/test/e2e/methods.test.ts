import { request } from 'node:http'
import { buildProxyHeaders, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { appAuth, call, createTestDir, startTestApp, type TestApp } from './harness.js'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** node:http sends any method (fetch refuses TRACE and CONNECT). */
function send(url: string, method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe.each([2, 1] as const)('methods on the tRPC route (proxy ver. %i)', (proxyVersion) => {
  let dir: TempDir
  let t: TestApp
  let headers: Record<string, string>

  beforeAll(async () => {
    dir = createTestDir()
    t = await startTestApp(dir, { proxyVersion })
    const userId = randomUserId()
    const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
    const { token } = created.json as { token: string }
    headers = buildProxyHeaders({
      userId,
      token,
      storeUuid: randomEvotorUuid(),
      deviceUuid: randomEvotorUuid(),
    })
  })
  afterAll(async () => {
    await t.close()
    dir.cleanup()
  })

  it.each(['TRACE', 'PROPFIND'])('%s answers 405 with Allow, not 500', async (method) => {
    const answer = await send(t.url, method, '/trpc/whoami', headers)
    expect(answer.status).toBe(405)
    expect(answer.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS')
    expect(JSON.parse(answer.text)).toEqual({})
    expect(t.logs.filter((line) => line.level === 'error')).toEqual([])
  })

  it('TRACE without a token answers 405 as well, and the route still serves GET', async () => {
    const { authorization: _, ...anonymous } = headers
    expect((await send(t.url, 'TRACE', '/trpc/whoami', anonymous)).status).toBe(405)
    const whoami = await send(t.url, 'GET', '/trpc/whoami', headers)
    expect(whoami.status).toBe(200)
  })
})
