import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runConformance } from 'evotor-partner/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { startServer } from '../../src/main.js'
import type { TempDir } from '../helpers.js'
import { APP_TOKEN, call, createTestDir, startTestApp, type TestApp } from './harness.js'

let dir: TempDir
let t: TestApp | undefined
beforeEach(async () => {
  dir = createTestDir()
})
afterEach(async () => {
  await t?.close()
  t = undefined
  dir.cleanup()
})

describe('start-up', () => {
  it('with no credentials configured, development mode prints a working app credential and the demo login', async () => {
    const printed: string[] = []
    const logs: string[] = []
    const server = await startServer({
      env: { DATABASE_PATH: dir.file('dev.sqlite'), LOG_LEVEL: 'info' },
      port: 0,
      print: (line) => printed.push(line),
      logSink: (line) => logs.push(line),
    })
    try {
      const banner = printed.join('\n')
      const appToken = /Authorization: Bearer ([A-Za-z0-9_-]+)/.exec(banner)?.[1]
      expect(appToken).toBeDefined()
      expect(banner).toContain('demo / demo-password')
      expect(await server.repos.accounts.findByLogin('demo')).toBeDefined()
      const created = await call(server.url, 'POST', '/api/v1/user/create', {
        auth: `Bearer ${appToken}`,
        body: { userId: '01-000000000000001' },
      })
      expect(created.status).toBe(200)
      expect(logs.join('\n')).not.toContain(appToken)
      expect((await call(server.url, 'GET', '/health')).json).toEqual({ status: 'ok' })
    } finally {
      await server.close()
    }
    // Restarted, it keeps the same generated credential (persisted in the database).
    const again: string[] = []
    const restarted = await startServer({
      env: { DATABASE_PATH: dir.file('dev.sqlite'), LOG_LEVEL: 'silent' },
      port: 0,
      print: (line) => again.push(line),
    })
    await restarted.close()
    expect(again.find((l) => l.includes('Bearer'))).toBe(printed.find((l) => l.includes('Bearer')))
  })

  it('with credentials configured and NODE_ENV unset, no demo account is seeded and the banner says so', async () => {
    const printed: string[] = []
    const server = await startServer({
      env: {
        DATABASE_PATH: dir.file('configured.sqlite'),
        EVOTOR_APP_TOKEN: APP_TOKEN,
        USER_TOKEN_SECRET: 'a-configured-user-token-secret-0123456789abcdef',
        LOG_LEVEL: 'silent',
      },
      port: 0,
      print: (line) => printed.push(line),
    })
    try {
      expect(server.config.nodeEnv).toBe('development')
      expect(await server.repos.accounts.findByLogin('demo')).toBeUndefined()
      const banner = printed.join('\n')
      expect(banner).not.toContain('demo-password')
      expect(banner).toMatch(/demo partner account: not created/)
      const verify = await call(server.url, 'POST', '/api/v1/user/verify', {
        auth: `Bearer ${APP_TOKEN}`,
        body: { userId: '01-000000000000001', username: 'demo', password: 'demo-password' },
      })
      expect(verify.status).toBe(401)
    } finally {
      await server.close()
    }
  })

  it('warns when a demo account seeded by an earlier development run is still there', async () => {
    const path = dir.file('was-dev.sqlite')
    const dev = await startServer({
      env: { DATABASE_PATH: path, LOG_LEVEL: 'silent' },
      port: 0,
      print: () => {},
    })
    await dev.close()
    const logs: string[] = []
    const configured = await startServer({
      env: { DATABASE_PATH: path, EVOTOR_APP_TOKEN: APP_TOKEN, LOG_LEVEL: 'warn' },
      port: 0,
      print: () => {},
      logSink: (line) => logs.push(line),
    })
    await configured.close()
    expect(logs.join('\n')).toMatch(/well-known demo password/)
  })

  it('DATABASE_PATH=:memory: is an in-memory database, not a file in the working directory', async () => {
    const server = await startServer({
      env: { DATABASE_PATH: ':memory:', EVOTOR_APP_TOKEN: APP_TOKEN, NODE_ENV: 'test', LOG_LEVEL: 'silent' },
      port: 0,
      print: () => {},
    })
    try {
      expect(server.config.databasePath).toBe(':memory:')
      expect(server.db.location).toBe(':memory:')
      expect(existsSync(join(process.cwd(), ':memory:'))).toBe(false)
      expect((await call(server.url, 'GET', '/health')).json).toEqual({ status: 'ok' })
    } finally {
      await server.close()
    }
  })

  it('production without credentials fails with a clear ConfigError and no secret in it', async () => {
    const start = startServer({
      env: {
        NODE_ENV: 'production',
        DATABASE_PATH: dir.file('prod.sqlite'),
        EVOTOR_APP_BASIC: 'login:hunter2',
      },
      port: 0,
      print: () => {},
      logSink: () => {},
    })
    await expect(start).rejects.toBeInstanceOf(ConfigError)
    await expect(start).rejects.toThrow(/USER_TOKEN_SECRET/)
    await expect(start).rejects.not.toThrow(/hunter2/)
  })
})

describe.each([2, 1] as const)('the evotor-partner simulator (proxy ver. %i)', (proxyVersion) => {
  it('passes every check', async () => {
    t = await startTestApp(dir, { proxyVersion })
    const report = await runConformance({
      baseUrl: t.url,
      appToken: APP_TOKEN,
      proxyVersion,
      proxyPath: '/trpc/whoami',
      statePath: '/trpc/account.state',
    })
    const failed = report.results.filter((r) => r.status !== 'pass')
    expect(failed.map((r) => `${r.id}: ${r.message}`)).toEqual([])
    expect(report.results.length).toBeGreaterThanOrEqual(20)
  })
})
