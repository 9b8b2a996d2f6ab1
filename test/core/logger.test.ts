// Issue 15: the `logger` options take a pino logger or `console` as they are. pino's methods are
// `(fields, message)`, console's `(message, ...)`: toLogSink() calls each in its own order.
import { Console } from 'node:console'
import { Writable } from 'node:stream'
import pino from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { createUserTokens } from '../../src/core/auth/user-tokens.js'
import { isPinoLike, toLogSink } from '../../src/core/logger.js'
import { createEvotorProxy } from '../../src/core/proxy.js'
import { createEvotorWebhooks } from '../../src/core/webhooks.js'

/** A writable collecting what is written to it. */
function collector() {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString())
      done()
    },
  })
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter(Boolean) }
}

/** A real pino logger writing JSON lines into a collector. */
function pinoInto(level = 'debug') {
  const out = collector()
  const logger = pino({ level, base: null, timestamp: false }, out.stream)
  return { logger, records: () => out.lines().map((line) => JSON.parse(line) as Record<string, unknown>) }
}

/** A real console writing into a collector (the same class as the global one). */
function consoleInto() {
  const out = collector()
  const err = collector()
  return {
    logger: new Console({ stdout: out.stream, stderr: err.stream }),
    stdout: out.text,
    stderr: err.text,
  }
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve))

describe('toLogSink', () => {
  it('recognises pino and calls it (fields, message): the fields become properties of the line', async () => {
    const { logger, records } = pinoInto()
    expect(isPinoLike(logger)).toBe(true)
    expect(isPinoLike(console)).toBe(false)
    const sink = toLogSink(logger)
    sink.warn('handler finished late', { route: 'receipts', ms: 9400 })
    sink.error('failed')
    sink.debug('retrying', { attempts: 2 })
    await nextTick()
    expect(records()).toEqual([
      { level: 40, msg: 'handler finished late', route: 'receipts', ms: 9400 },
      { level: 50, msg: 'failed' },
      { level: 20, msg: 'retrying', attempts: 2 },
    ])
  })

  it('keeps pino child bindings and level filtering', async () => {
    const { logger, records } = pinoInto('warn')
    const sink = toLogSink(logger.child({ component: 'webhooks' }))
    sink.info('not written')
    sink.warn('written', { route: 'stores' })
    await nextTick()
    expect(records()).toEqual([{ level: 40, component: 'webhooks', msg: 'written', route: 'stores' }])
  })

  it('calls console (message, fields), and just the message without fields', () => {
    const { logger, stdout, stderr } = consoleInto()
    const sink = toLogSink(logger)
    sink.info('listening', { port: 3000 })
    sink.warn('late')
    sink.error('failed', { route: 'stores' })
    expect(stdout()).toBe('listening { port: 3000 }\n')
    expect(stderr()).toBe("late\nfailed { route: 'stores' }\n")
  })

  it('calls a plain object in the style the option documents, and skips missing methods', () => {
    const calls: unknown[][] = []
    const messageFirst = toLogSink({ warn: (...args: unknown[]) => void calls.push(['m', ...args]) })
    const fieldsFirst = toLogSink(
      { warn: (...args: unknown[]) => void calls.push(['f', ...args]) },
      'fields-first',
    )
    messageFirst.warn('a', { x: 1 })
    fieldsFirst.warn('b', { y: 2 })
    messageFirst.error('no error() method: silent')
    expect(calls).toEqual([
      ['m', 'a', { x: 1 }],
      ['f', { y: 2 }, 'b'],
    ])
  })

  it('is silent without a logger, and a logger that throws never breaks the caller', () => {
    expect(() => toLogSink(undefined).error('x')).not.toThrow()
    const throwing = toLogSink({
      error: () => {
        throw new Error('disk full')
      },
    })
    expect(() => throwing.error('x', { a: 1 })).not.toThrow()
  })
})

describe('logger options take pino and console as they are', () => {
  const tokens = createUserTokens({ secret: 'logger-test-secret-0123456789-abcdefghij' })
  const APP_TOKEN = 'app-token-logger-test-0123456789'
  const createRequest = {
    method: 'POST',
    path: '/api/v1/user/create',
    headers: { authorization: `Bearer ${APP_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: '01-000000000000001' }),
  }

  it('createEvotorWebhooks with pino: a failed handler is one JSON line with its fields, no secret', async () => {
    const { logger, records } = pinoInto()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      userTokens: tokens,
      logger,
      handlers: {
        userCreate: async () => {
          throw new Error('database is down')
        },
      },
    })
    const res = await webhooks.handle(createRequest)
    expect(res.status).toBe(500)
    await nextTick()
    // Other lines may come first (routes without a handler are reported); this one is the failure.
    const failures = records().filter((r) => r.msg === 'evotor-partner: webhook handler failed')
    expect(failures).toEqual([expect.objectContaining({ level: 50, route: 'userCreate' })])
    expect(JSON.stringify(records())).not.toContain(APP_TOKEN)
  })

  it('createEvotorWebhooks with console: the message first', async () => {
    const { logger, stderr } = consoleInto()
    const webhooks = createEvotorWebhooks({
      appCredential: { bearer: [APP_TOKEN] },
      logger,
      handlers: {
        userCreate: async () => {
          throw new Error('database is down')
        },
      },
    })
    expect((await webhooks.handle(createRequest)).status).toBe(500)
    expect(stderr()).toMatch(/^evotor-partner: webhook handler failed \{[^\n]*route: 'userCreate'/m)
  })

  it('createEvotorWebhooks with console: the routes without a handler are listed once, no secret', () => {
    const { logger, stdout, stderr } = consoleInto()
    createEvotorWebhooks({ appCredential: { bearer: [APP_TOKEN] }, userTokens: tokens, logger, handlers: {} })
    const text = stderr()
    expect(stdout()).toBe('')
    expect(text).toMatch(
      /^evotor-partner: 12 webhook routes without a handler; they answer:\n {2}userCreate: 501 /,
    )
    for (const name of ['userCreate', 'userVerify', 'commodities', 'installationEvent', 'receipts']) {
      expect(text.split(`${name}:`).length - 1).toBe(1)
    }
    expect(text).not.toContain('unhandledRoutes')
    expect(text.trimEnd().split('\n')).toHaveLength(13)
    expect(text).not.toContain(APP_TOKEN)
  })

  it('createEvotorWebhooks with the default console: one argument, the readable list', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      createEvotorWebhooks({ appCredential: { bearer: [APP_TOKEN] }, handlers: {} })
      expect(warn).toHaveBeenCalledTimes(1)
      expect(warn.mock.calls[0]).toEqual([
        expect.stringMatching(/webhook routes without a handler[\s\S]*receipts: 200/),
      ])
    } finally {
      warn.mockRestore()
    }
  })

  it('createEvotorWebhooks with pino: the list is in the message and queryable as unhandledRoutes', async () => {
    const { logger, records } = pinoInto()
    createEvotorWebhooks({ appCredential: { bearer: [APP_TOKEN] }, logger, handlers: {} })
    await nextTick()
    const [warning] = records()
    expect(warning).toMatchObject({ level: 40, msg: expect.stringMatching(/receipts: 200/) })
    expect(Object.keys(warning?.unhandledRoutes as object)).toHaveLength(12)
  })

  it('createEvotorProxy with pino', async () => {
    const { logger, records } = pinoInto()
    const proxy = createEvotorProxy({ userTokens: tokens, logger })
    expect(proxy.errorResponse(new Error('ECONNREFUSED 10.0.0.5:5432')).status).toBe(500)
    await nextTick()
    expect(records()).toEqual([
      {
        level: 50,
        msg: 'evotor-partner: proxied request failed',
        error: 'Error: ECONNREFUSED 10.0.0.5:5432',
      },
    ])
  })
})
