import { describe, expect, it } from 'vitest'
import { createLogger, REDACT_PATHS } from '../src/logger.js'

function capture(level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'debug') {
  const lines: string[] = []
  const log = createLogger({ level, sink: (line) => lines.push(line) })
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { log, lines, records }
}

describe('logger (pino)', () => {
  it('writes one JSON object per line with level, time, msg and fields', () => {
    const { log, lines, records } = capture()
    log.info({ route: 'userCreate', status: 200 }, 'webhook handled')
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toContain('\n')
    expect(records()[0]).toEqual({
      level: 'info',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
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
    expect(() => createLogger({ level: 'loud' as 'info' })).toThrow(/must be one of/)
  })

  it('redacts secrets by path, at the top and nested, and in child loggers', () => {
    const { log, lines, records } = capture()
    log.child({ component: 'test' }).info(
      {
        headers: {
          authorization: 'Bearer abc',
          Authorization: 'Bearer abd',
          cookie: 'sid=1',
          'content-type': 'json',
        },
        body: { userId: '01-000000000000001', token: 'evotor-cloud-token', nested: { password: 'p4ss' } },
        req: { headers: { 'x-authorization': 'cloud-token-2' } },
        userTokenSecret: 'x'.repeat(40),
        password: 'top-level-password',
        revokedTokens: 2,
      },
      'request',
    )
    const line = lines[0] ?? ''
    for (const secret of [
      'abc',
      'abd',
      'sid=1',
      'evotor-cloud-token',
      'p4ss',
      'cloud-token-2',
      'x'.repeat(40),
      'top-level-password',
    ])
      expect(line).not.toContain(secret)
    expect(records()[0]).toMatchObject({
      component: 'test',
      headers: {
        authorization: '[redacted]',
        Authorization: '[redacted]',
        cookie: '[redacted]',
        'content-type': 'json',
      },
      body: { userId: '01-000000000000001', token: '[redacted]', nested: { password: '[redacted]' } },
      req: { headers: { 'x-authorization': '[redacted]' } },
      userTokenSecret: '[redacted]',
      password: '[redacted]',
      revokedTokens: 2,
    })
    expect(REDACT_PATHS).toContain('*.*["x-authorization"]')
  })

  it('serialises errors under `error` with their message and stack', () => {
    const { log, records } = capture()
    log.error({ error: new TypeError('boom') }, 'request failed')
    expect(records()[0]).toMatchObject({
      level: 'error',
      msg: 'request failed',
      error: { type: 'TypeError', message: 'boom', stack: expect.stringContaining('TypeError: boom') },
    })
  })

  it("leaves a parser error's raw request bytes out, and never throws on fields it cannot redact", () => {
    const { log, records } = capture()
    // What Node's HTTP parser gives Koa's 'error' event: the raw packet, credentials included.
    const parseError = Object.assign(new Error('Parse Error: Invalid character in chunk size'), {
      code: 'HPE_INVALID_CHUNK_SIZE',
      rawPacket: Buffer.from('GET / HTTP/1.1\r\nAuthorization: Bearer secret-token\r\n'),
    })
    expect(() => log.error({ error: parseError }, 'unhandled error')).not.toThrow()
    // A Buffer two levels down makes pino's redaction throw; the line is still written.
    expect(() => log.warn({ data: { bytes: Buffer.from('abc') } }, 'with bytes')).not.toThrow()
    const [first, second] = records()
    expect(first).toMatchObject({
      msg: 'unhandled error',
      error: { code: 'HPE_INVALID_CHUNK_SIZE', rawPacket: '[52 bytes]' },
    })
    expect(JSON.stringify(first)).not.toContain('secret-token')
    expect(second).toMatchObject({ level: 'warn', msg: 'with bytes', logFieldsDropped: expect.any(String) })
    expect(second).not.toHaveProperty('data')
  })

  it('falls back to JSON on stdout when pretty output is asked for and pino-pretty is missing or present', () => {
    // Either way a working pino logger comes back (pino-pretty is a dev dependency here).
    const log = createLogger({ pretty: true, level: 'silent' })
    expect(typeof log.info).toBe('function')
    expect(log.level).toBe('silent')
  })
})
