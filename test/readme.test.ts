import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo, Server } from 'node:net'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Runs the README quick start as written: the block between the readme-example markers is written
// next to this file and imported, so `evotor-partner` resolves to the built package (self-reference).
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const block = /<!-- readme-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- readme-example:end -->/.exec(
  readme,
)?.[1]
const file = new URL('./.readme-example.tmp.ts', import.meta.url)

const APP_TOKEN = 'readme-app-token-6d0f3c1e-8a4b-4b7e-9c55-0e1f2a3b4c5d'
let server: Server
let base: string

beforeAll(async () => {
  if (block === undefined) throw new Error('README quick start block not found')
  process.env.EVOTOR_APP_TOKEN = APP_TOKEN
  process.env.USER_TOKEN_SECRET = 'readme-user-token-secret-0123456789abcdef'
  process.env.PORT = '0'
  writeFileSync(file, block)
  const mod = (await import(file.href)) as { server: Server }
  server = mod.server
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  rmSync(file, { force: true })
  await new Promise((resolve) => server?.close(resolve))
})

describe('README example', () => {
  it('answers user/create, a stores notification and a proxied terminal request over HTTP', async () => {
    const userId = '01-000000000000001'
    const created = await fetch(`${base}/api/v1/user/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APP_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    })
    expect(created.status).toBe(200)
    const { token } = (await created.json()) as { token: string }
    expect(token).toMatch(/^[A-Za-z0-9_-]{1,128}$/)

    const store = { uuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB', name: 'Магазин на Ленина' }
    const stores = await fetch(`${base}/api/v1/inventories/stores`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json;charset=UTF-8' },
      body: JSON.stringify([store]),
    })
    expect(stores.status).toBe(200)

    const terminalHeaders = {
      authorization: `Bearer ${token}`,
      'x-evotor-store-uuid': store.uuid,
      'x-evotor-device-uuid': '20170222-D58C-40E0-8051-B53ADFF38860',
      'x-evotor-user-id': userId,
    }
    const terminal = await fetch(`${base}/anything`, { headers: terminalHeaders })
    expect(terminal.status).toBe(200)
    expect(await terminal.json()).toEqual({ user: userId, stores: [expect.objectContaining(store)] })

    const uninstall = await fetch(`${base}/api/v2/installation/event`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APP_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'b3f6c1de-0a6e-4c55-9f3a-7d2e1c0b9a88',
        timestamp: Date.now(),
        version: 2,
        type: 'ApplicationUninstalled',
        data: { productId: 'c0d01x35-5193-4cc2-9bfb-be20e0679498', userId },
      }),
    })
    expect(uninstall.status).toBe(200)
    const afterUninstall = await fetch(`${base}/anything`, { headers: terminalHeaders })
    expect(afterUninstall.status).toBe(401)

    const forged = await fetch(`${base}/anything`, {
      headers: { 'x-evotor-user-id': userId, 'x-evotor-store-uuid': store.uuid },
    })
    expect(forged.status).toBe(401)
    expect(await forged.json()).toEqual({ errors: [{ code: 1002 }] })
  })

  it('type-checks as written (strict, against the built package)', async () => {
    const config = new URL('./.readme-example.tmp.tsconfig.json', import.meta.url)
    writeFileSync(
      config,
      JSON.stringify({ extends: '../tsconfig.json', include: ['./.readme-example.tmp.ts'] }),
    )
    try {
      const tsc = new URL('../node_modules/typescript/bin/tsc', import.meta.url)
      const run = promisify(execFile)
      const result = await run(process.execPath, [tsc.pathname, '--noEmit', '-p', config.pathname]).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? 'tsc failed',
      )
      expect(result).toBe('')
    } finally {
      rmSync(config, { force: true })
    }
  })

  it('documents the real length of an issued token', async () => {
    const { createUserTokens } = await import('../src/core/auth/user-tokens.js')
    const token = await createUserTokens({ secret: 'readme-secret-0123456789abcdefghijkl' }).issue(
      '01-000000000000001',
    )
    const documented = /\/\/ (\d+) chars of \[A-Za-z0-9_-\]/.exec(readme)?.[1]
    expect(Number(documented)).toBe(token.length)
  })
})
