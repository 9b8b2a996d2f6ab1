import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'
import { startTestService, type TestService, type TestServiceOptions } from './partner-service.js'

const APP_TOKEN = 'cli-app-token-7d1f-0123456789'
const services: TestService[] = []

afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()))
})

async function service(options: TestServiceOptions = {}): Promise<TestService> {
  const started = await startTestService({ appToken: APP_TOKEN, ...options })
  services.push(started)
  return started
}

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env,
  })
  return { code, stdout, stderr }
}

describe('evotor-partner simulate (in-process main)', () => {
  it('exits 0 against a correct service, with progress on stderr and the table on stdout', async () => {
    const { url } = await service({ proxyVersion: 1 })
    const run = await cli([
      'simulate',
      url,
      '--app-token',
      APP_TOKEN,
      '--proxy-version',
      '1',
      '--proxy-path',
      '/terminal/whoami',
      '--state-path',
      '/terminal/state',
    ])
    expect(run.stderr).toMatch(/^✓ user\.create {2}\d+ ms$/m)
    expect(run.stderr).toMatch(/^✓ proxy\.after-uninstall {2}\d+ ms$/m)
    expect(run.stdout).toMatch(/24 checks: 24 passed, 0 failed, 0 blocked, 0 skipped \(\d+ ms\): PASS\n/)
    expect(run.stdout).not.toContain('Failures:')
    expect(run.stdout + run.stderr).not.toContain(APP_TOKEN)
    expect(run.code).toBe(0)
  })

  it('takes the app credential from EVOTOR_APP_TOKEN', async () => {
    const { url } = await service()
    const run = await cli(['simulate', url, '--only', 'user.create,user.token'], {
      EVOTOR_APP_TOKEN: APP_TOKEN,
    })
    expect(run.stdout).toMatch(/2 passed, 0 failed/)
    expect(run.code).toBe(0)
  })

  const broken: Array<[string, TestServiceOptions, string[], string, RegExp]> = [
    [
      'answers 201',
      { notificationStatus: 201 },
      [],
      'inventory.stores',
      /expected exactly HTTP 200, got 201/,
    ],
    [
      'applies a duplicate twice',
      { duplicates: 'apply-twice' },
      [],
      'subscription.duplicate',
      /applied again/,
    ],
    ['issues a 200-character token', { tokenLength: 200 }, [], 'user.token-format', /200 characters long/],
    [
      'trusts forged headers',
      { trustForgedHeaders: true },
      [],
      'proxy.forged-headers',
      /refused with 401, got 200/,
    ],
    [
      'times out',
      { slowPath: { path: '/api/v1/inventories/devices', ms: 1_000 } },
      ['--timeout', '250'],
      'inventory.devices',
      /no answer within 250 ms \(timeout\)/,
    ],
  ]
  it.each(broken)(
    'exits 1 against a service that %s and explains the failure',
    async (_name, options, extra, id, message) => {
      const { url } = await service(options)
      const run = await cli([
        'simulate',
        url,
        '--app-token',
        APP_TOKEN,
        '--proxy-path',
        '/terminal/whoami',
        '--state-path',
        '/terminal/state',
        ...extra,
      ])
      expect(run.code).toBe(1)
      expect(run.stderr).toMatch(new RegExp(`^✗ ${id.replace('.', '\\.')} `, 'm'))
      const failure = run.stdout.slice(run.stdout.indexOf('Failures:'))
      const block = failure.slice(failure.indexOf(`) ${id}: `))
      expect(block).toMatch(/^\) [^\n]+\n {3}rule: {4}§/)
      expect(block).toMatch(/\n {3}sent: {4}(GET|POST|PUT) \//)
      expect(block).toMatch(/\n {3}(got: {5}(HTTP \d{3}|no answer))/)
      expect(block.split('\n\n')[0]).toMatch(message)
      expect(run.stdout).toMatch(/: FAIL\n$/)
      expect(run.stdout).not.toContain(APP_TOKEN)
    },
  )

  it('prints a JSON report with --json', async () => {
    const { url } = await service({ notificationStatus: 201 })
    const run = await cli(['simulate', url, '--app-token', APP_TOKEN, '--json', '--only', 'inventory.stores'])
    const report = JSON.parse(run.stdout)
    expect(report.ok).toBe(false)
    expect(report.results.find((r: { id: string }) => r.id === 'inventory.stores')).toMatchObject({
      status: 'fail',
      response: { status: 201 },
    })
    expect(run.code).toBe(1)
  })

  it('parses repeatable --path, --skip and --verify-login', async () => {
    const { url } = await service({
      appBasic: { username: 'evotor', password: 'pw-0123456789abcdef' },
      accounts: { bob: 'pw2' },
    })
    const run = await cli([
      'simulate',
      url,
      '--app-basic',
      'evotor:pw-0123456789abcdef',
      '--verify-login',
      'bob:pw2',
      '--path',
      'userVerify=/api/v1/user/verify',
      '--path',
      'stores=/api/v1/inventories/stores',
      '--skip',
      'documents,receipts',
      '--skip',
      'commodities',
      '--json',
    ])
    const report = JSON.parse(run.stdout)
    const status = (id: string) => report.results.find((r: { id: string }) => r.id === id)?.status
    expect(report.results.filter((r: { status: string }) => r.status === 'fail')).toEqual([])
    expect(status('user.verify')).toBe('pass')
    expect(status('documents')).toBe('skip')
    expect(status('commodities')).toBe('skip')
    expect(run.code).toBe(0)
  })

  it('prints help and exits 0', async () => {
    const run = await cli(['--help'])
    expect(run.stdout).toContain('Usage: evotor-partner simulate <baseUrl>')
    expect(run.code).toBe(0)
  })

  it.each([
    [[], /missing command/],
    [['simulate'], /missing <baseUrl>/],
    [['simulate', 'http://127.0.0.1:1'], /app credential is required/],
    [
      ['simulate', 'http://127.0.0.1:1', '--app-token', 'x', '--proxy-version', '3'],
      /--proxy-version must be 1 or 2/,
    ],
    [['simulate', 'http://127.0.0.1:1', '--app-basic', 'nocolon'], /--app-basic must be login:password/],
    [
      ['simulate', 'http://127.0.0.1:1', '--app-token', 'x', '--only', 'nope'],
      /only has unknown check ids: nope/,
    ],
    [['simulate', 'http://127.0.0.1:1', '--app-token', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['deploy', 'x'], /unknown command "deploy"/],
  ])('exits 2 on a usage error %j', async (argv, message) => {
    const run = await cli(argv as string[])
    expect(run.stderr).toMatch(message)
    expect(run.code).toBe(2)
  })
})

describe('the real bin', () => {
  it('runs through node --import tsx and sets the exit code', async () => {
    const broken = await service({ notificationStatus: 201 })
    const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
    const result = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', cliPath, 'simulate', broken.url, '--only', 'inventory.stores'],
      { env: { ...process.env, EVOTOR_APP_TOKEN: APP_TOKEN } },
    ).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^✗ inventory\.stores {2}\d+ ms {2}expected exactly HTTP 200, got 201/m)
    expect(result.stdout).toMatch(/1 failed/)
  })
})
