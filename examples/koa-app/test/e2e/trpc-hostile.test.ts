import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import { buildProxyHeaders, randomEvotorUuid, randomUserId } from 'evotor-partner/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { appAuth, call, createTestDir, startTestApp, type TestApp } from './harness.js'

/** The app on `proxyVersion`, with one created user and the proxy headers of a terminal of theirs. */
async function startWithUser(
  dir: TempDir,
  proxyVersion: 1 | 2,
): Promise<{ t: TestApp; headers: Record<string, string> }> {
  const t = await startTestApp(dir, { proxyVersion })
  const userId = randomUserId()
  const created = await call(t.url, 'POST', '/api/v1/user/create', { auth: appAuth, body: { userId } })
  const { token } = created.json as { token: string }
  const headers = buildProxyHeaders({
    userId,
    token,
    storeUuid: randomEvotorUuid(),
    deviceUuid: randomEvotorUuid(),
  })
  return { t, headers }
}

// Findings of the hostile-input review on the proxied tRPC route: batches, encodings, slow bodies.
describe('the tRPC route under hostile input', () => {
  let dir: TempDir
  let t: TestApp
  let headers: Record<string, string>

  beforeAll(async () => {
    dir = createTestDir()
    ;({ t, headers } = await startWithUser(dir, 2))
  })
  afterAll(async () => {
    await t.close()
    dir.cleanup()
  })

  it('refuses a batch of more than 10 procedures with 400, and serves a batch of 10', async () => {
    const batch = (n: number) =>
      fetch(`${t.url}/trpc/${new Array(n).fill('whoami').join(',')}?batch=1`, { headers })
    const tooMany = await batch(100)
    expect(tooMany.status).toBe(400)
    expect(await tooMany.text()).toMatch(/Batch call exceeds maximum size/)
    expect((await batch(10)).status).toBe(200)
  })

  it('answers a body that does not match its Content-Encoding with 400, not 500', async () => {
    for (const encoding of ['gzip', 'br', 'deflate']) {
      const res = await fetch(`${t.url}/trpc/cloud.pushProduct`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-encoding': encoding },
        body: 'notcompressed',
      })
      expect(res.status, encoding).toBe(400)
      expect(await res.json(), encoding).toEqual({ error: 'the body does not match its Content-Encoding' })
    }
    // A body that is what it says still arrives.
    const ok = await fetch(`${t.url}/trpc/whoami`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync('{}'),
    })
    expect(ok.status).toBeLessThan(500)
    expect(t.logs.filter((line) => line.level === 'error')).toEqual([])
  })

  it('closes a /trpc upload that stalls with 408 instead of holding it for Node’s 300 s', async () => {
    const { port } = new URL(t.url)
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        const lines = [
          'POST /trpc/cloud.pushProduct HTTP/1.1',
          `Host: 127.0.0.1:${port}`,
          ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
          'Content-Type: application/json',
          'Content-Length: 100',
        ]
        socket.write(`${lines.join('\r\n')}\r\n\r\n{`)
      })
      let text = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        text += chunk
      })
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  }, 45_000)
})

describe('the tRPC route behind proxy ver. 1: body errors are the client’s, inside the envelope', () => {
  let dir: TempDir
  let t: TestApp
  let headers: Record<string, string>

  beforeAll(async () => {
    dir = createTestDir()
    ;({ t, headers } = await startWithUser(dir, 1))
  })
  afterAll(async () => {
    await t.close()
    dir.cleanup()
  })

  it.each([
    ['gzip', 400, 'the body does not match its Content-Encoding'],
    ['zstd', 415, 'Unsupported Content-Encoding: zstd'],
  ])(
    'Content-Encoding %s on a body that is not: {status: %i} (was 500), not logged as an error',
    async (encoding, status, text) => {
      const res = await fetch(`${t.url}/trpc/whoami`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-encoding': encoding },
        body: 'notcompressed',
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status, body: text })
      expect(t.logs.filter((line) => line.level === 'error')).toEqual([])
    },
  )
})
