import { describe, expect, it } from 'vitest'
import { createLogger, redact } from '../src/logger.js'

function capture(level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'debug') {
  const lines: string[] = []
  const log = createLogger({
    level,
    sink: (line) => lines.push(line),
    now: () => new Date('2024-05-01T00:00:00Z'),
  })
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { log, lines, records }
}

describe('logger', () => {
  it('writes one JSON object per line with level, time, msg and fields', () => {
    const { log, lines, records } = capture()
    log.info('webhook handled', { route: 'userCreate', status: 200 })
    expect(lines).toHaveLength(1)
    expect(records()[0]).toEqual({
      level: 'info',
      time: '2024-05-01T00:00:00.000Z',
      msg: 'webhook handled',
      route: 'userCreate',
      status: 200,
    })
  })

  it('filters by level and can be silenced', () => {
    const info = capture('warn')
    info.log.debug('d')
    info.log.info('i')
    info.log.warn('w')
    info.log.error('e')
    expect(info.records().map((r) => r.level)).toEqual(['warn', 'error'])
    const silent = capture('silent')
    silent.log.error('e')
    expect(silent.lines).toEqual([])
  })

  it('redacts sensitive field names at any depth and in any case', () => {
    const { log, lines, records } = capture()
    log.info('request', {
      headers: { Authorization: 'Bearer abc', COOKIE: 'sid=1', 'content-type': 'application/json' },
      body: { userId: '01-000000000000001', token: 'evotor-cloud-token', nested: [{ Password: 'p4ss' }] },
      userTokenSecret: 'x'.repeat(40),
    })
    const line = lines[0] ?? ''
    for (const secret of ['abc', 'sid=1', 'evotor-cloud-token', 'p4ss', 'x'.repeat(40)])
      expect(line).not.toContain(secret)
    expect(records()[0]).toMatchObject({
      headers: { Authorization: '[redacted]', COOKIE: '[redacted]', 'content-type': 'application/json' },
      body: { userId: '01-000000000000001', token: '[redacted]', nested: [{ Password: '[redacted]' }] },
      userTokenSecret: '[redacted]',
    })
  })

  it('redacts keys that are secrets, not keys that merely mention one: counters stay visible', () => {
    expect(
      redact({
        revokedTokens: 2,
        tokenCount: 3,
        tokenExpiresAt: '2024-05-01',
        accessToken: 'a1',
        user_token: 'u1',
        'x-api-key': 'k1',
        'Set-Cookie': 'sid=1',
        'proxy-authorization': 'Basic eA==',
        passwordHash: 'scrypt$…',
        clientSecret: 's1',
        tokens: ['t1', 't2'],
        userTokenSecrets: ['s2'],
      }),
    ).toEqual({
      revokedTokens: 2,
      tokenCount: 3,
      tokenExpiresAt: '2024-05-01',
      accessToken: '[redacted]',
      user_token: '[redacted]',
      'x-api-key': '[redacted]',
      'Set-Cookie': '[redacted]',
      'proxy-authorization': '[redacted]',
      passwordHash: '[redacted]',
      clientSecret: '[redacted]',
      tokens: '[redacted]',
      userTokenSecrets: '[redacted]',
    })
    const { log, records } = capture()
    log.info('installation event applied', { route: 'installationEvent', revokedTokens: 1 })
    expect(records()[0]).toMatchObject({ revokedTokens: 1 })
  })

  it('masks Bearer and Basic credentials inside strings, messages and errors', () => {
    const { log, lines } = capture()
    log.warn('rejected Bearer s3cr3t-token', {
      detail: 'got basic dXNlcjpwYXNz and BEARER eyJhbGciOi.x.y',
      error: new Error('upstream said Bearer leaked-value'),
    })
    const line = lines[0] ?? ''
    for (const secret of ['s3cr3t-token', 'dXNlcjpwYXNz', 'eyJhbGciOi', 'leaked-value'])
      expect(line).not.toContain(secret)
    expect(line).toContain('Bearer [redacted]')
    expect(line).toContain('basic [redacted]')
  })

  it('serialises errors, cycles and bigints safely and keeps reserved keys', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic
    expect(redact({ cyclic, big: 10n })).toEqual({ cyclic: { name: 'loop', self: '[circular]' }, big: '10' })
    const { log, records } = capture()
    log.error('failed', { msg: 'spoof', level: 'debug', err: new TypeError('bad') })
    const record = records()[0] ?? {}
    expect(record.msg).toBe('failed')
    expect(record.level).toBe('error')
    expect(record.err).toMatchObject({ name: 'TypeError', message: 'bad' })
  })

  it('child loggers add their fields', () => {
    const { log, records } = capture()
    log.child({ requestId: 'r1', authorization: 'Basic zzz' }).info('x', { a: 1 })
    expect(records()[0]).toMatchObject({ requestId: 'r1', authorization: '[redacted]', a: 1 })
  })

  it('rejects an unknown level', () => {
    expect(() => createLogger({ level: 'loud' as 'info' })).toThrow(TypeError)
  })
})
