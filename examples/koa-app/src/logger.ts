/** The accepted level names, from the most verbose; `silent` disables output. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>

/** A JSON-lines logger. */
export interface Logger {
  readonly level: LogLevel
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel
  /** Receives each complete line (without the newline). Default: write to stdout. */
  sink?: (line: string) => void
  /** Clock, for tests. */
  now?: () => Date
  /** Fields added to every line. */
  base?: LogFields
}

const REDACTED = '[redacted]'
// Matched against the key in lower case without `-` and `_`, anchored: a key that IS a secret
// (`token`, `accessToken`, `x-api-key`, `set-cookie`), not one that merely mentions one
// (`tokenCount`, `revokedTokens: 2`).
const SECRET_KEY =
  /^(?:.*(?:authorization|token|secret|password|passwd|passphrase|apikey|privatekey|cookie)|credentials?|passwordhash)$/
// Plural keys hold lists of secrets (`tokens`, `userTokenSecrets`) or counters (`revokedTokens: 2`).
const SECRET_LIST_KEY = /(?:tokens|secrets|passwords|cookies|credentials)$/

function isSecretField(key: string, value: unknown): boolean {
  const normalized = key.toLowerCase().replace(/[-_]/g, '')
  if (SECRET_KEY.test(normalized)) return true
  return SECRET_LIST_KEY.test(normalized) && typeof value !== 'number'
}
const CREDENTIAL_IN_TEXT = /\b(Bearer|Basic)(\s+)[^\s"',;]+/gi
const RESERVED = new Set(['level', 'time', 'msg'])
const MAX_DEPTH = 8

/**
 * Replaces secrets in a value: any property (any case, at any depth, `-` and `_` ignored) whose
 * name ends with `authorization`, `token`, `secret`, `password`, `apiKey` or `cookie` becomes
 * `"[redacted]"`, as does a plural one (`tokens`, `secrets`, …) unless its value is a number
 * (a counter such as `revokedTokens` stays visible); and
 * `Bearer …` / `Basic …` credentials inside strings are masked. Errors become
 * `{ name, message, stack }`; cycles become `"[circular]"`.
 *
 * @example
 * ```ts
 * redact({ headers: { Authorization: 'Bearer abc' }, note: 'got Bearer abc' })
 * // { headers: { Authorization: '[redacted]' }, note: 'got Bearer [redacted]' }
 * ```
 */
export function redact(value: unknown): unknown {
  return redactValue(value, new WeakSet(), 0)
}

function redactString(text: string): string {
  return text.replace(
    CREDENTIAL_IN_TEXT,
    (_match, scheme: string, space: string) => `${scheme}${space}${REDACTED}`,
  )
}

function redactValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactString(value)
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value
  }
  if (seen.has(value)) return '[circular]'
  if (depth >= MAX_DEPTH) return '[truncated]'
  seen.add(value)
  try {
    if (value instanceof Date) return value.toISOString()
    if (value instanceof Error) return redactError(value, seen, depth)
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSecretField(key, item) ? REDACTED : redactValue(item, seen, depth + 1)
    }
    return out
  } finally {
    seen.delete(value)
  }
}

function redactError(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: redactString(error.message) }
  if (error.stack) out.stack = redactString(error.stack)
  for (const [key, item] of Object.entries(error)) {
    out[key] = isSecretField(key, item) ? REDACTED : redactValue(item, seen, depth + 1)
  }
  if (error.cause !== undefined) out.cause = redactValue(error.cause, seen, depth + 1)
  return out
}

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`)
}

/**
 * Creates a structured logger writing one JSON object per line:
 * `{"level":"info","time":"…","msg":"…",…fields}`. Every field passes through {@link redact}.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug' })
 * log.info('webhook handled', { route: 'userCreate', authorization: 'Bearer x' }) // authorization: "[redacted]"
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info'
  if (!LOG_LEVELS.includes(level))
    throw new TypeError(`createLogger: option "level" must be one of ${LOG_LEVELS.join(', ')}`)
  const sink = options.sink ?? writeStdout
  const now = options.now ?? (() => new Date())
  const base = { ...options.base }
  const threshold = LOG_LEVELS.indexOf(level)

  const write = (
    lineLevel: Exclude<LogLevel, 'silent'>,
    msg: string,
    fields: LogFields | undefined,
  ): void => {
    if (LOG_LEVELS.indexOf(lineLevel) < threshold) return
    const record: Record<string, unknown> = {
      level: lineLevel,
      time: now().toISOString(),
      msg: redactString(msg),
    }
    const extra = redact({ ...base, ...fields })
    if (extra && typeof extra === 'object') {
      for (const [key, item] of Object.entries(extra)) if (!RESERVED.has(key)) record[key] = item
    }
    sink(JSON.stringify(record))
  }

  return {
    level,
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ level, sink, now, base: { ...base, ...fields } }),
  }
}
