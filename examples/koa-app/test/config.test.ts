import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DEFAULT_DATABASE_PATH,
  DEV_SETTINGS,
  databasePathFromEnv,
  loadConfig,
  resolveSecrets,
} from '../src/config.js'
import { createTestDb } from './helpers.js'

const SECRET_A = 'a'.repeat(32)
const SECRET_B = 'b-secret-that-is-long-enough-000000'

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('starts in development mode with defaults when no variable is set', async () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databasePath: DEFAULT_DATABASE_PATH,
      appToken: undefined,
      appBasic: undefined,
      userTokenSecrets: [],
      proxyVersion: 2,
      logLevel: 'info',
      nodeEnv: 'development',
      production: false,
    })
    // data/app.sqlite inside the app's own folder, wherever that folder is (a copy, a new project).
    expect(DEFAULT_DATABASE_PATH).toBe(
      join(fileURLToPath(new URL('..', import.meta.url)), 'data', 'app.sqlite'),
    )
  })

  it('reads every variable', async () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_PATH: '/tmp/x/app.sqlite',
      EVOTOR_APP_TOKEN: 'evotor_token',
      EVOTOR_APP_BASIC: 'partner:pa:ss:word',
      USER_TOKEN_SECRET: ` ${SECRET_A} , ${SECRET_B},`,
      EVOTOR_PROXY_VERSION: '1',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
    })
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      databasePath: '/tmp/x/app.sqlite',
      appToken: 'evotor_token',
      appBasic: { username: 'partner', password: 'pa:ss:word' },
      userTokenSecrets: [SECRET_A, SECRET_B],
      proxyVersion: 1,
      logLevel: 'debug',
      nodeEnv: 'production',
      production: true,
    })
  })

  it('treats empty variables as unset', async () => {
    expect(loadConfig({ PORT: '', EVOTOR_APP_TOKEN: '  ' })).toMatchObject({
      port: 3000,
      appToken: undefined,
    })
  })

  it('requires an app credential and USER_TOKEN_SECRET in production', async () => {
    const error = configError({ NODE_ENV: 'production' })
    expect(error.problems.map((p) => p.variable)).toEqual([
      'EVOTOR_APP_TOKEN / EVOTOR_APP_BASIC',
      'USER_TOKEN_SECRET',
    ])
    expect(error.message).toMatch(/^Invalid configuration \(2 problems\):\n {2}- EVOTOR_APP_TOKEN/)
    expect(() =>
      loadConfig({ NODE_ENV: 'production', EVOTOR_APP_BASIC: 'a:b', USER_TOKEN_SECRET: SECRET_A }),
    ).not.toThrow()
  })

  it('names every bad variable on its own line, with non-secret values shown', async () => {
    const error = configError({
      PORT: '70000',
      EVOTOR_PROXY_VERSION: '3',
      LOG_LEVEL: 'loud',
      NODE_ENV: 'staging',
      HOST: 'two words',
    })
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'EVOTOR_PROXY_VERSION',
      'HOST',
      'LOG_LEVEL',
      'NODE_ENV',
      'PORT',
    ])
    expect(error.message.split('\n')).toHaveLength(6)
    expect(error.message).toContain('PORT: must be an integer from 1 to 65535 (default 3000) (got "70000")')
    expect(error.message).toContain('EVOTOR_PROXY_VERSION: must be 2 (default) or 1 (got "3")')
  })

  it('rejects bad secrets without ever echoing them', async () => {
    const shortSecret = 'short-secret-value'
    const error = configError({
      USER_TOKEN_SECRET: `${SECRET_A},${shortSecret}`,
      EVOTOR_APP_BASIC: 'no-colon-here-secretvalue',
      EVOTOR_APP_TOKEN: 'has space secretvalue',
    })
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'EVOTOR_APP_BASIC',
      'EVOTOR_APP_TOKEN',
      'USER_TOKEN_SECRET',
    ])
    expect(error.message).not.toContain(shortSecret)
    expect(error.message).not.toContain('secretvalue')
    expect(error.message).not.toContain(SECRET_A)
    expect(configError({ EVOTOR_APP_BASIC: ':password' }).problems[0]?.variable).toBe('EVOTOR_APP_BASIC')
    expect(configError({ EVOTOR_APP_BASIC: 'login:' }).problems[0]?.variable).toBe('EVOTOR_APP_BASIC')
  })

  it('rejects a non-numeric port', async () => {
    expect(configError({ PORT: '30a0' }).problems).toEqual([
      { variable: 'PORT', message: 'must be an integer from 1 to 65535 (default 3000) (got "30a0")' },
    ])
  })

  it('databasePathFromEnv resolves relative paths and defaults to the example data dir', async () => {
    expect(databasePathFromEnv({})).toBe(DEFAULT_DATABASE_PATH)
    expect(databasePathFromEnv({ DATABASE_PATH: ':memory:' })).toBe(':memory:')
    expect(loadConfig({ DATABASE_PATH: ' :memory: ' }).databasePath).toBe(':memory:')
    expect(databasePathFromEnv({ DATABASE_PATH: 'rel/app.sqlite' })).toBe(`${process.cwd()}/rel/app.sqlite`)
  })
})

describe('resolveSecrets', () => {
  it('generates, persists and reuses development secrets across restarts', async () => {
    const t = await createTestDb()
    try {
      const first = await resolveSecrets(loadConfig({}), t.repos.settings)
      expect(first.development.appToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(first.development.userTokenSecret).toBe(true)
      expect(first.appCredential.bearer).toEqual([first.development.appToken])
      expect(first.userTokenSecrets[0].length).toBeGreaterThanOrEqual(32)
      await t.reopen()
      const second = await resolveSecrets(loadConfig({}), t.repos.settings)
      expect(second.development.appToken).toBe(first.development.appToken)
      expect(second.userTokenSecrets).toEqual(first.userTokenSecrets)
      expect(await t.repos.settings.get(DEV_SETTINGS.appToken)).toBe(first.development.appToken)
    } finally {
      t.cleanup()
    }
  })

  it('uses configured credentials and generates nothing for them', async () => {
    const t = await createTestDb()
    try {
      const secrets = await resolveSecrets(
        loadConfig({ EVOTOR_APP_BASIC: 'login:pw', USER_TOKEN_SECRET: `${SECRET_A},${SECRET_B}` }),
        t.repos.settings,
      )
      expect(secrets.appCredential).toEqual({ bearer: [], basic: [{ username: 'login', password: 'pw' }] })
      expect(secrets.userTokenSecrets).toEqual([SECRET_A, SECRET_B])
      expect(secrets.development).toEqual({ appToken: undefined, userTokenSecret: false })
      expect(await t.repos.settings.get(DEV_SETTINGS.appToken)).toBeUndefined()
      expect(await t.repos.settings.get(DEV_SETTINGS.userTokenSecret)).toBeUndefined()
    } finally {
      t.cleanup()
    }
  })
})
