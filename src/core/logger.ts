/**
 * One logger shape inside the library, whatever the application passes as its `logger` option:
 * pino (and pino-compatible loggers) take `(fields, message)`, `console` takes `(message, ...)`.
 */
import { Console } from 'node:console'

/** The log levels the library writes at. */
export type LogSinkLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * Where the library writes a log line: the message first, then structured fields (never
 * secrets). What {@link toLogSink} makes of a pino logger, `console` or a plain object.
 *
 * @example
 * ```ts
 * const sink: LogSink = toLogSink(console) // inside the library
 * sink.warn('evotor-partner: handler finished late', { route: 'receipts', ms: 9400 })
 * ```
 */
export interface LogSink {
  /** Detail for debugging (retries and their waits). */
  debug(message: string, fields?: Record<string, unknown>): void
  /** Normal operation worth a line. */
  info(message: string, fields?: Record<string, unknown>): void
  /** Something worth a look that was still handled. */
  warn(message: string, fields?: Record<string, unknown>): void
  /** A failure. */
  error(message: string, fields?: Record<string, unknown>): void
}

/**
 * What a `logger` option accepts: a pino logger (or any logger with pino's `(fields, message)`
 * methods and `levels`/`bindings`), `console` or a `Console`, or a plain object with some of
 * `debug`, `info`, `warn`, `error`. Missing methods are silent.
 *
 * @example
 * ```ts
 * import pino from 'pino'
 * const a: LoggerInput = pino()
 * const b: LoggerInput = console
 * const c: LoggerInput = { error: (message, fields) => report(message, fields) }
 * ```
 */
export type LoggerInput = {
  // biome-ignore lint/suspicious/noExplicitAny: pino's and console's methods are variadic
  [L in LogSinkLevel]?: (...args: any[]) => void
}

/**
 * How a plain object's methods are called: `'message-first'` `(message, fields)` (the
 * `WebhookLogger` shape) or `'fields-first'` `(fields, message)` (the `EvotorClientLogger` shape,
 * as bunyan and pino take them). pino loggers and consoles are recognised whatever this says.
 *
 * @example
 * ```ts
 * toLogSink({ warn: (fields, message) => log(message, fields) }, 'fields-first')
 * ```
 */
export type LoggerCallStyle = 'message-first' | 'fields-first'

const LEVELS: readonly LogSinkLevel[] = ['debug', 'info', 'warn', 'error']
const noop = (): void => {}

/**
 * Whether `logger` is a pino logger: pino's instances have `levels.values`, `bindings()` and
 * `child()`. Its methods take `(fields, message)`.
 *
 * @example
 * ```ts
 * isPinoLike(pino()) // true
 * isPinoLike(console) // false
 * ```
 */
export function isPinoLike(logger: unknown): boolean {
  if (typeof logger !== 'object' || logger === null) return false
  const l = logger as { levels?: { values?: unknown }; bindings?: unknown; child?: unknown }
  return (
    typeof l.bindings === 'function' &&
    typeof l.child === 'function' &&
    typeof l.levels === 'object' &&
    l.levels !== null &&
    typeof l.levels.values === 'object'
  )
}

/**
 * Whether `logger` is `console` or a `Console`: it writes text for a person, and prints the
 * fields object after the message, so a message that already says everything goes without it.
 *
 * @example
 * ```ts
 * isConsoleLike(console) // true
 * isConsoleLike(pino()) // false
 * ```
 */
export function isConsoleLike(logger: unknown): boolean {
  return logger === globalThis.console || logger instanceof Console
}

/**
 * Turns whatever was passed as a `logger` option into a {@link LogSink}: a pino logger gets
 * `logger.warn(fields, message)` (its fields become properties of the JSON line), `console` gets
 * `console.warn(message, fields)` (or just the message when there are no fields), a plain object
 * is called in `style`. `undefined` gives a silent sink. A method that throws is ignored: a
 * broken logger never breaks a request.
 *
 * @example
 * ```ts
 * import pino from 'pino'
 * import { toLogSink } from 'evotor-partner'
 *
 * toLogSink(pino()).warn('late', { route: 'receipts' }) // {"level":40,…,"route":"receipts","msg":"late"}
 * toLogSink(console).warn('late', { route: 'receipts' }) // late { route: 'receipts' }
 * ```
 */
export function toLogSink(
  logger: LoggerInput | undefined,
  style: LoggerCallStyle = 'message-first',
): LogSink {
  if (logger === undefined || logger === null) return { debug: noop, info: noop, warn: noop, error: noop }
  const order: LoggerCallStyle | 'console' = isPinoLike(logger)
    ? 'fields-first'
    : isConsoleLike(logger)
      ? 'console'
      : style
  const make = (level: LogSinkLevel) => {
    if (typeof logger[level] !== 'function') return noop
    return (message: string, fields?: Record<string, unknown>): void => {
      try {
        const method = logger[level] as (...args: unknown[]) => void
        if (order === 'fields-first') method.call(logger, fields ?? {}, message)
        else if (order === 'console' && fields === undefined) method.call(logger, message)
        else method.call(logger, message, fields)
      } catch {
        // A logger that throws must not turn a handled request into a failure.
      }
    }
  }
  const sink = {} as LogSink
  for (const level of LEVELS) sink[level] = make(level)
  return sink
}
