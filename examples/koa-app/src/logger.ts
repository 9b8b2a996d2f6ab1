import { createRequire } from 'node:module'
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino'

/** The accepted level names, from the most verbose; `silent` disables output. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * The app's logger: pino. Its methods take `(fields, message)`; evotor-partner's `logger`
 * options take it as it is.
 */
export type Logger = PinoLogger

/** What replaces a redacted value. */
export const REDACTED = '[redacted]'

// Names of fields that hold secrets, wherever the app logs them: credentials and their headers,
// tokens, passwords, secrets, and the configuration variables that hold them.
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'x-authorization',
  'X-Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'token',
  'tokens',
  'accessToken',
  'userToken',
  'appToken',
  'cloudToken',
  'evotorToken',
  'password',
  'passwordHash',
  'secret',
  'secrets',
  'clientSecret',
  'userTokenSecret',
  'userTokenSecrets',
  'appBasic',
  'appCredential',
  'EVOTOR_APP_TOKEN',
  'EVOTOR_APP_BASIC',
  'USER_TOKEN_SECRET',
]

const key = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`)

/**
 * pino `redact` paths: each secret field at the top of a line and up to three levels down
 * (`headers.authorization`, `body.token`, `req.headers.cookie`, `error.config.password`).
 *
 * @example
 * ```ts
 * pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } })
 * ```
 */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((name) =>
  ['', '*', '*.*', '*.*.*'].map((prefix) =>
    prefix === '' ? key(name).replace(/^\./, '') : `${prefix}${key(name)}`,
  ),
)

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel
  /** Receives each JSON line (without the newline) instead of stdout: tests and tools. */
  sink?: (line: string) => void
  /**
   * Human-readable output through pino-pretty (a dev dependency) instead of JSON lines. Only
   * honoured when pino-pretty is installed; production installs (`npm ci --omit=dev`) get JSON.
   */
  pretty?: boolean
}

/** pino-pretty as a synchronous stream, or `undefined` when it is not installed. */
function prettyStream(): DestinationStream | undefined {
  try {
    const loaded = createRequire(import.meta.url)('pino-pretty') as
      | ((options: object) => DestinationStream)
      | { default: (options: object) => DestinationStream }
    const build = typeof loaded === 'function' ? loaded : loaded.default
    return build({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
  } catch {
    return undefined
  }
}

/** What an error's fields may hold in a log line: binary data (a request's raw bytes) is left out. */
function serializeError(value: unknown): unknown {
  const out = pino.stdSerializers.err(value as Error) as unknown
  if (typeof out !== 'object' || out === null) return out
  const record = out as Record<string, unknown>
  for (const key of Object.keys(record)) {
    const field = record[key]
    // Node's parser errors carry the raw packet (`rawPacket`): request bytes, credentials included.
    if (ArrayBuffer.isView(field) || field instanceof ArrayBuffer) record[key] = `[${field.byteLength} bytes]`
  }
  return record
}

/**
 * A log call never throws: pino's redaction walks the fields by path and throws on some values
 * (a `Buffer` two levels down), which in an `'error'` listener would end the process. Such a line
 * is written without its fields, with the message and why.
 */
function logMethod(this: PinoLogger, args: Parameters<PinoLogger['info']>, method: PinoLogger['info']): void {
  try {
    method.apply(this, args)
  } catch (error) {
    const message = typeof args[0] === 'string' ? args[0] : typeof args[1] === 'string' ? args[1] : ''
    const reason = error instanceof Error ? error.name : 'error'
    try {
      method.call(this, { logFieldsDropped: `the fields could not be written (${reason})` }, message)
    } catch {
      // Nothing left to write with: the line is lost, the process is not.
    }
  }
}

/**
 * Creates the app's pino logger: one JSON object per line,
 * `{"level":"info","time":"…","msg":"…",…fields}`, secrets replaced by `"[redacted]"` by path
 * ({@link REDACT_PATHS}), errors under `error` or `err` serialised with their message and stack
 * (binary fields, such as the raw bytes of a request Node could not parse, left out). A log call
 * never throws: a line whose fields cannot be written is written with its message alone.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug' })
 * log.info({ route: 'userCreate', authorization: 'Bearer x' }, 'webhook handled') // authorization: "[redacted]"
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  if (!LOG_LEVELS.includes(level))
    throw new TypeError(`createLogger: option "level" must be one of ${LOG_LEVELS.join(', ')}`)
  const sink = options.sink
  const destination: DestinationStream | undefined =
    sink !== undefined
      ? { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) }
      : options.pretty
        ? prettyStream()
        : undefined
  const settings = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { error: serializeError, err: serializeError },
    hooks: { logMethod },
  }
  return destination === undefined ? pino(settings) : pino(settings, destination)
}
