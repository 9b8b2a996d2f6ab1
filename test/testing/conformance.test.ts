import { afterEach, describe, expect, it } from 'vitest'
import {
  CONFORMANCE_CHECK_IDS,
  type ConformanceOptions,
  type ConformanceReport,
  formatProgress,
  renderReport,
  runConformance,
} from '../../src/testing/index.js'
import { startTestService, type TestService, type TestServiceOptions } from './partner-service.js'

const APP_TOKEN = 'app-token-0f3c9d2e7b'
const services: TestService[] = []

afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()))
})

async function run(
  serviceOptions: TestServiceOptions = {},
  options: Partial<ConformanceOptions> = {},
): Promise<{ report: ConformanceReport; service: TestService }> {
  const service = await startTestService({ appToken: APP_TOKEN, ...serviceOptions })
  services.push(service)
  const report = await runConformance({
    baseUrl: service.url,
    appToken: APP_TOKEN,
    proxyPath: '/terminal/whoami',
    statePath: '/terminal/state',
    ...(serviceOptions.proxyVersion === undefined ? {} : { proxyVersion: serviceOptions.proxyVersion }),
    ...options,
  })
  return { report, service }
}

function result(report: ConformanceReport, id: string) {
  const found = report.results.find((r) => r.id === id)
  if (found === undefined) throw new Error(`no result ${id}`)
  return found
}

function failures(report: ConformanceReport): string[] {
  return report.results.filter((r) => r.status === 'fail').map((r) => `${r.id}: ${r.message}`)
}

describe('runConformance against a correct service', () => {
  it('passes every check in proxy ver. 2', async () => {
    const { report } = await run()
    expect(failures(report)).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.results.map((r) => r.status)).toEqual(report.results.map(() => 'pass'))
    const expected = CONFORMANCE_CHECK_IDS.filter((id) => id !== 'user.verify')
    expect(report.results.map((r) => r.id)).toEqual(expected)
    expect(report.summary).toEqual({
      total: expected.length,
      passed: expected.length,
      failed: 0,
      skipped: 0,
      blocked: 0,
    })
    expect(report.notices).toEqual([])
  })

  it('passes every check in proxy ver. 1 with a service that holds the early event', async () => {
    const { report } = await run({ proxyVersion: 1, outOfOrder: 'hold' })
    expect(failures(report)).toEqual([])
    expect(report.summary.skipped).toBe(0)
    expect(result(report, 'subscription.out-of-order').message).toBe('seq 3 and seq 2 acknowledged with 200')
  })

  it('accepts a "not yet" answer to the early event when the re-send gets 200', async () => {
    const { report } = await run({ outOfOrder: 'not-yet' })
    const check = result(report, 'subscription.out-of-order')
    expect(check.status).toBe('pass')
    expect(check.message).toMatch(/seq 3 got 503 \("not yet"\) before seq 2, 200 on the re-send/)
  })

  it('logs in through user/verify with a Basic app credential and user-token events', async () => {
    const appBasic = { username: 'evotor', password: 'p4ss:word-0123456789' }
    const service = await startTestService({ appBasic, accounts: { 'И.Иванов': 'superpassword' } })
    services.push(service)
    const report = await runConformance({
      baseUrl: service.url,
      appBasic,
      verify: { username: 'И.Иванов', password: 'superpassword' },
      eventCredential: 'user',
      proxyPath: '/terminal/whoami',
    })
    expect(failures(report)).toEqual([])
    expect(report.results.map((r) => r.id)).toContain('user.verify')
    expect(report.results.map((r) => r.id)).not.toContain('user.create')
    expect(report.results.map((r) => r.id)).not.toContain('user.create.retry')
  })

  it('reports wrong partner credentials on user/verify', async () => {
    const appBasic = { username: 'evotor', password: 'secret-0123456789abcdef' }
    const service = await startTestService({ appBasic, accounts: { alice: 'right' } })
    services.push(service)
    const report = await runConformance({
      baseUrl: service.url,
      appBasic,
      verify: { username: 'alice', password: 'wrong' },
    })
    expect(result(report, 'user.verify').status).toBe('fail')
    expect(result(report, 'user.verify').message).toBe('expected exactly HTTP 200, got 401')
    expect(result(report, 'inventory.stores')).toMatchObject({
      status: 'blocked',
      message: 'blocked: needs user.verify, which failed',
    })
    expect(report.ok).toBe(false)
  })

  it('never puts the app credential or the user token into the report', async () => {
    const seen: string[] = []
    const { report } = await run({}, { onProgress: (r) => seen.push(formatProgress(r)) })
    const text = JSON.stringify(report) + renderReport(report) + seen.join('\n')
    expect(text).not.toContain(APP_TOKEN)
    expect(result(report, 'user.create').request?.headers.authorization).toBe('Bearer [REDACTED]')
    expect(result(report, 'user.create').response?.body).toMatch(/"token":"\[REDACTED 43 chars\]"/)
    expect(seen).toHaveLength(report.results.length)
    expect(seen[0]).toMatch(/^✓ user\.create {2}\d+ ms$/)
  })

  it('skips the proxy checks without a proxyPath and still passes', async () => {
    const { report } = await run(
      {},
      { proxyPath: undefined as unknown as string, statePath: undefined as unknown as string },
    )
    expect(report.ok).toBe(true)
    expect(result(report, 'proxy.authorized')).toMatchObject({ status: 'skip' })
    expect(result(report, 'proxy.authorized').message).toMatch(/no proxyPath/)
    expect(result(report, 'subscription.duplicate').message).toMatch(/state not observed/)
  })
})

describe('runConformance finds broken services', () => {
  it('a service that answers 201 on notifications', async () => {
    const { report } = await run({ notificationStatus: 201 })
    expect(report.ok).toBe(false)
    for (const id of [
      'subscription.created',
      'inventory.stores',
      'inventory.products',
      'documents',
      'receipts',
    ]) {
      expect(result(report, id).status).toBe('fail')
      expect(result(report, id).message).toMatch(
        /^expected exactly HTTP 200, got 201: Evotor confirms delivery only on 200/,
      )
      expect(result(report, id).response?.status).toBe(201)
    }
    expect(result(report, 'inventory.stores').rule).toMatch(/§5\.1/)
    expect(result(report, 'user.create').status).toBe('pass')
  })

  it('a service that rejects a duplicate subscription event', async () => {
    const { report } = await run({ duplicates: 'reject' })
    const check = result(report, 'subscription.duplicate')
    expect(check.status).toBe('fail')
    expect(check.message).toBe('duplicate delivery: expected exactly HTTP 200, got 409')
    expect(result(report, 'subscription.created').status).toBe('pass')
  })

  it('a service that applies a duplicate subscription event twice (seen through statePath)', async () => {
    const { report, service } = await run({ duplicates: 'apply-twice' })
    const check = result(report, 'subscription.duplicate')
    expect(check.status).toBe('fail')
    expect(check.message).toMatch(/^the duplicate was applied again: state changed from/)
    expect(service.applied.filter((e) => e.sequenceNumber === 1)).toHaveLength(2)
  })

  it('a service that applies a duplicate twice, seen through observeState', async () => {
    const service = await startTestService({ appToken: APP_TOKEN, duplicates: 'apply-twice' })
    services.push(service)
    const report = await runConformance({
      baseUrl: service.url,
      appToken: APP_TOKEN,
      only: ['subscription.duplicate'],
      observeState: ({ subscriptionId }) =>
        service.applied.filter((e) => e.subscriptionId === subscriptionId).length,
    })
    expect(report.results.filter((r) => r.status !== 'skip').map((r) => [r.id, r.status, r.message])).toEqual(
      [['subscription.duplicate', 'fail', 'the duplicate was applied again: state changed from 1 to 2']],
    )
  })

  it('a service that applies seq 3 at once and then rejects seq 2 as stale', async () => {
    const { report } = await run({ outOfOrder: 'apply-and-reject-stale' })
    const check = result(report, 'subscription.out-of-order')
    expect(check.status).toBe('fail')
    expect(check.message).toBe('seq 2 (sent after seq 3): expected exactly HTTP 200, got 409')
  })

  it('a service that issues a 200-character token', async () => {
    const { report } = await run({ tokenLength: 200 })
    const check = result(report, 'user.token-format')
    expect(check.status).toBe('fail')
    expect(check.message).toBe('token is 200 characters long (max 128)')
    expect(check.rule).toMatch(/128 characters of \[A-Za-z0-9_-\]/)
    expect(result(report, 'user.create').status).toBe('pass')
  })

  it('a service that trusts forged X-Evotor-* headers', async () => {
    const { report } = await run({ trustForgedHeaders: true })
    expect(result(report, 'proxy.forged-headers')).toMatchObject({
      status: 'fail',
      message: 'expected the request to be refused with 401, got 200',
    })
    expect(result(report, 'proxy.user-mismatch')).toMatchObject({
      status: 'fail',
      message: 'expected the request to be refused with 401, got 200',
    })
    expect(result(report, 'proxy.forged-headers').request?.headers).not.toHaveProperty('authorization')
    expect(result(report, 'proxy.authorized').status).toBe('pass')
  })

  it('a ver. 1 service that trusts forged headers is judged on the inner status', async () => {
    const { report } = await run({ trustForgedHeaders: true, proxyVersion: 1 })
    expect(result(report, 'proxy.forged-headers').message).toBe(
      'expected the request to be refused with 401, got 200',
    )
    expect(result(report, 'proxy.forged-headers').response?.status).toBe(200)
  })

  it('a ver. 2 service checked as ver. 1 fails the envelope rule', async () => {
    const { report } = await run({}, { proxyVersion: 1 })
    expect(result(report, 'proxy.forged-headers').message).toBe(
      'proxy ver. 1 answers must be HTTP 200 with a {"status","body"} envelope, got HTTP 401',
    )
    expect(result(report, 'proxy.authorized').message).toBe(
      'proxy ver. 1 answer is not a {"status": <int>, "body": …} envelope',
    )
  })

  it('a service that keeps the user token valid after uninstall', async () => {
    const { report } = await run({ keepTokenAfterUninstall: true })
    expect(result(report, 'proxy.after-uninstall')).toMatchObject({
      status: 'fail',
      message: 'expected the request to be refused with 401/402/403, got 200',
    })
  })

  it('a service that times out', async () => {
    const { report } = await run(
      { slowPath: { path: '/api/v1/inventories/stores', ms: 1_500 } },
      { timeoutMs: 300 },
    )
    const check = result(report, 'inventory.stores')
    expect(check.status).toBe('fail')
    expect(check.message).toBe('no answer within 300 ms (timeout)')
    expect(check.response).toBeUndefined()
    expect(check.ms).toBeGreaterThanOrEqual(290)
    expect(check.ms).toBeLessThan(1_400)
    expect(result(report, 'inventory.devices').status).toBe('pass')
  })

  it('a service that accepts any app credential and any user token', async () => {
    const { report } = await run(
      { acceptAnyCredential: true },
      {
        only: [
          'negative.app-credential',
          'negative.missing-field',
          'negative.bad-json',
          'negative.user-token',
        ],
      },
    )
    expect(result(report, 'negative.app-credential').message).toBe(
      'expected HTTP 401 with {"errors":[{"code":1001}]}, got HTTP 200',
    )
    expect(result(report, 'negative.user-token').message).toBe(
      'expected HTTP 401 with {"errors":[{"code":1002}]}, got HTTP 200',
    )
    expect(result(report, 'negative.missing-field').status).toBe('pass')
    expect(result(report, 'negative.bad-json').status).toBe('pass')
  })

  it('reports an unreachable service', async () => {
    const report = await runConformance({
      baseUrl: 'http://127.0.0.1:9',
      appToken: APP_TOKEN,
      only: ['user.create'],
    })
    expect(result(report, 'user.create').status).toBe('fail')
    expect(result(report, 'user.create').message).toMatch(/^request failed: /)
  })
})

describe('runConformance options', () => {
  it('runs only the selected checks and their prerequisites silently', async () => {
    const { report } = await run({}, { only: ['commodities'] })
    const ran = report.results.filter((r) => r.status !== 'skip')
    expect(ran.map((r) => [r.id, r.status])).toEqual([['commodities', 'pass']])
    expect(result(report, 'inventory.products')).toMatchObject({
      status: 'skip',
      message: 'not selected (only/skip); ran as a prerequisite and passed',
    })
    expect(result(report, 'receipts')).toMatchObject({ status: 'skip', message: 'not selected (only/skip)' })
  })

  it('reports a failed silent prerequisite', async () => {
    const { report } = await run({ appToken: 'another-app-token' }, { only: ['commodities'] })
    expect(result(report, 'user.create')).toMatchObject({
      status: 'fail',
      message: 'expected exactly HTTP 200, got 401',
    })
    expect(result(report, 'commodities')).toMatchObject({
      status: 'blocked',
      message: 'blocked: needs user.create, which failed',
    })
    expect(report.ok).toBe(false)
  })

  it('still runs a check whose predecessor was delivered but not acknowledged with 200', async () => {
    const { report } = await run({ notificationStatus: 201 }, { only: ['commodities', 'proxy.authorized'] })
    expect(result(report, 'inventory.products')).toMatchObject({ status: 'fail', response: { status: 201 } })
    expect(result(report, 'commodities').status).toBe('pass')
    expect(result(report, 'proxy.authorized').status).toBe('pass')
  })

  it('reports the event checks as blocked when events carry the user token and the login failed', async () => {
    const { report } = await run(
      {},
      { only: ['subscription.duplicate'], eventCredential: 'user', appToken: 'wrong' },
    )
    expect(result(report, 'subscription.duplicate')).toMatchObject({
      status: 'blocked',
      message: 'blocked: needs user.create, which failed',
    })
    expect(report.summary.blocked).toBe(1)
    expect(renderReport(report)).toMatch(
      /⊘ blocked\s+subscription\.duplicate .*blocked: needs user\.create, which failed/,
    )
  })

  it('blocks the revocation check, naming the uninstall, when the uninstall was not acknowledged', async () => {
    const { report } = await run({ notificationStatus: 201 })
    expect(result(report, 'installation.uninstalled').status).toBe('fail')
    expect(result(report, 'proxy.after-uninstall')).toMatchObject({
      status: 'blocked',
      message: 'blocked: needs installation.uninstalled, which failed',
    })
    // Not "expected 401, got 200": the check never ran.
    expect(result(report, 'proxy.after-uninstall').request).toBeUndefined()
  })

  it('says once, at the top, that a ver. 1 service was run as ver. 2 (and the reverse)', async () => {
    const service = await startTestService({ appToken: APP_TOKEN, proxyVersion: 1 })
    services.push(service)
    const asV2 = await runConformance({
      baseUrl: service.url,
      appToken: APP_TOKEN,
      proxyPath: '/terminal/whoami',
    })
    expect(asV2.notices).toEqual([
      expect.stringMatching(/answers as proxy ver\. 1; run with --proxy-version 1/),
    ])
    const text = renderReport(asV2)
    expect(text.split('\n')[1]).toMatch(
      /^NOTE: every proxied answer was HTTP 200 with a \{"status","body"\} envelope/,
    )
    expect(text.match(/NOTE:/g)).toHaveLength(1)
    const v2 = await startTestService({ appToken: APP_TOKEN, proxyVersion: 2 })
    services.push(v2)
    const asV1 = await runConformance({
      baseUrl: v2.url,
      appToken: APP_TOKEN,
      proxyPath: '/terminal/whoami',
      proxyVersion: 1,
    })
    expect(asV1.notices).toEqual([
      expect.stringMatching(/answers as proxy ver\. 2; run without --proxy-version 1/),
    ])
  })

  it('says next to PASS how many checks were skipped, and why', async () => {
    const service = await startTestService({ appToken: APP_TOKEN })
    services.push(service)
    const report = await runConformance({ baseUrl: service.url, appToken: APP_TOKEN })
    expect(report.ok).toBe(true)
    expect(report.summary.skipped).toBe(4)
    const text = renderReport(report)
    expect(text).toMatch(/: PASS with 4 skipped\n/)
    expect(text).toMatch(
      /\n4 not run \(proxy\.authorized, proxy\.forged-headers, proxy\.user-mismatch, proxy\.after-uninstall\): no proxyPath given/,
    )
  })

  it('leaves out skipped checks', async () => {
    const { report } = await run(
      { notificationStatus: 201 },
      { skip: ['subscription.created', 'subscription.duplicate'] },
    )
    expect(result(report, 'subscription.duplicate')).toMatchObject({ status: 'skip' })
  })

  it('uses custom paths', async () => {
    const service = await startTestService({ appToken: APP_TOKEN })
    services.push(service)
    const report = await runConformance({
      baseUrl: `${service.url}/prefix`,
      appToken: APP_TOKEN,
      only: ['user.create'],
      fetch: (input, init) => fetch(String(input).replace('/prefix', ''), init),
      paths: { userCreate: '/api/v1/user/create' },
    })
    expect(result(report, 'user.create').status).toBe('pass')
    expect(result(report, 'user.create').request?.path).toBe('/api/v1/user/create')
  })

  it('rejects bad options with a TypeError naming the option', async () => {
    const base = { baseUrl: 'http://127.0.0.1:1', appToken: 'x' }
    await expect(runConformance({ baseUrl: 'http://127.0.0.1:1' })).rejects.toThrow(
      /appToken or appBasic is required/,
    )
    await expect(runConformance({ ...base, baseUrl: 'nope' })).rejects.toThrow(TypeError)
    await expect(runConformance({ ...base, only: ['no.such'] })).rejects.toThrow(
      /only has unknown check ids: no\.such/,
    )
    await expect(runConformance({ ...base, paths: { nope: '/x' } as never })).rejects.toThrow(
      /paths has an unknown route/,
    )
    await expect(runConformance({ ...base, proxyPath: 'x' })).rejects.toThrow(/proxyPath must be a path/)
    await expect(runConformance({ ...base, timeoutMs: 0 })).rejects.toThrow(/timeoutMs/)
    await expect(runConformance({ ...base, proxyVersion: 3 as never })).rejects.toThrow(/proxyVersion/)
    await expect(runConformance({ ...base, appBasic: { username: 'a', password: 'b' } })).rejects.toThrow(
      /exclusive/,
    )
  })

  it('plays the given userId and does not mutate the options', async () => {
    const service = await startTestService({ appToken: APP_TOKEN })
    services.push(service)
    const options = {
      baseUrl: service.url,
      appToken: APP_TOKEN,
      userId: '01-000000000000042',
      only: ['user.create'],
    }
    const copy = structuredClone(options)
    const report = await runConformance(options)
    expect(report.userId).toBe('01-000000000000042')
    expect(result(report, 'user.create').request?.body).toContain('01-000000000000042')
    expect(options).toEqual(copy)
  })
})
