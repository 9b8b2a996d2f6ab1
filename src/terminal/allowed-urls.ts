/**
 * The terminal side of the proxy flow (protocol §2.1–§2.4, evotor-cloud-api.md §3): which URLs,
 * ports, methods, media types and headers a terminal app may use, checked before the real cloud
 * silently refuses or rewrites them.
 */
import {
  type AllowedUrlPatternIssue,
  type CompiledAllowedUrlPattern,
  compileAllowedUrlPattern,
} from './java-pattern.js'

/**
 * The methods the terminal and the cloud proxy carry, regardless of proxy version (protocol §2.2).
 *
 * @example
 * ```ts
 * TERMINAL_METHODS.includes('PATCH' as never) // false
 * ```
 */
export const TERMINAL_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const

/**
 * Request headers the terminal adds or overwrites, so an app must not rely on setting them
 * (protocol §2.4 step 2). `X-Evotor-*` stands for every header with that prefix.
 *
 * @example
 * ```ts
 * TERMINAL_RESERVED_HEADERS.includes('X-Device-ID') // true
 * ```
 */
export const TERMINAL_RESERVED_HEADERS = [
  'X-Device-ID',
  'X-Device-IMEI',
  'X-User-ID',
  'X-Signed-Url',
  'X-Shop-UUID',
  'X-Device-Salt',
  'X-Device-Algorithm',
  'X-Device-Date',
  'X-Secret-Device-ID',
  'X-OAuth-Client-ID',
  'X-Device-UUID',
  'X-Evotor-*',
  'Expect',
  'Host',
  'Transfer-Encoding',
] as const

const RESERVED = new Set(TERMINAL_RESERVED_HEADERS.map((name) => name.toLowerCase()))

/** Media types Evotor guarantees to carry (protocol §2.2); `text/*` and `image/*` are families. */
const GUARANTEED_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'application/json',
  'application/xml',
  'multipart/form-data',
])

/**
 * Whether the terminal overwrites this request header (case-insensitive; any `X-Evotor-*`).
 *
 * @param name - A header name.
 * @returns `true` for the reserved headers of protocol §2.4.
 *
 * @example
 * ```ts
 * isTerminalReservedHeader('x-evotor-store-uuid') // true
 * isTerminalReservedHeader('X-Request-Id') // false
 * ```
 */
export function isTerminalReservedHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return RESERVED.has(lower) || lower.startsWith('x-evotor-')
}

/** Whether a Content-Type is one Evotor guarantees to carry (parameters ignored). */
export function isGuaranteedMediaType(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  return GUARANTEED_TYPES.has(type) || /^text\/[^/\s]+$/.test(type) || /^image\/[^/\s]+$/.test(type)
}

/**
 * A request the terminal app makes: the absolute URL, and optionally the method (default
 * `GET`), the `Content-Type` it sends and the names (or name/value pairs) of the headers it sets.
 *
 * @example
 * ```ts
 * import type { TerminalRequest } from 'evotor-partner'
 * const request: TerminalRequest = {
 *   method: 'POST',
 *   url: 'https://partner.example.com/api/orders',
 *   contentType: 'application/json',
 *   headers: ['X-Request-Id'],
 * }
 * ```
 */
export interface TerminalRequest {
  url: string
  method?: string
  contentType?: string
  headers?: readonly string[] | Readonly<Record<string, string>>
}

/**
 * Input of {@link checkAllowedUrls}.
 *
 * @example
 * ```ts
 * import type { CheckAllowedUrlsInput } from 'evotor-partner'
 * const input: CheckAllowedUrlsInput = {
 *   patterns: ['https://partner\\.example\\.com/api/.*'],
 *   requests: ['https://partner.example.com/api/items', { method: 'POST', url: 'https://partner.example.com/api/orders' }],
 * }
 * ```
 */
export interface CheckAllowedUrlsInput {
  /** The allowed-URL patterns exactly as entered on the developer portal (Java regular expressions). */
  patterns: readonly string[]
  /** The requests the terminal app makes: a URL (a `GET`) or a {@link TerminalRequest}. */
  requests: readonly (string | TerminalRequest)[]
}

/**
 * What the checker says about one pattern.
 *
 * @example
 * ```ts
 * import { checkAllowedUrls } from 'evotor-partner'
 * const [report]: AllowedUrlPatternReport[] = checkAllowedUrls({ patterns: ['https://a\\.b/{id}'], requests: [] }).patterns
 * report?.status // 'invalid'
 * ```
 */
export interface AllowedUrlPatternReport {
  pattern: string
  /** `ok`, `invalid` (the portal refuses it) or `unsupported` (the checker cannot answer for it). */
  status: 'ok' | 'invalid' | 'unsupported'
  /** Why it is invalid or unsupported. */
  error?: AllowedUrlPatternIssue
  /** Constructs that mean something else in JavaScript, Java-only syntax, copy artefacts. */
  notes: AllowedUrlPatternIssue[]
}

/**
 * One problem of a request: `error` makes the request fail the check, `warning` does not.
 *
 * @example
 * ```ts
 * const problem: TerminalRequestProblem = { severity: 'error', rule: 'port', message: 'port 8080: only 80 and 443' }
 * ```
 */
export interface TerminalRequestProblem {
  severity: 'error' | 'warning'
  rule: 'url' | 'protocol' | 'port' | 'method' | 'media-type' | 'reserved-header' | 'pattern'
  message: string
}

/**
 * What the checker says about one request.
 *
 * @example
 * ```ts
 * import { checkAllowedUrls, type TerminalRequestReport } from 'evotor-partner'
 * const [report]: TerminalRequestReport[] = checkAllowedUrls({
 *   patterns: ['https://a\\.b/.*'],
 *   requests: ['https://a.b/x'],
 * }).requests
 * report?.matchedPattern // 'https://a\\.b/.*'
 * ```
 */
export interface TerminalRequestReport {
  method: string
  url: string
  /** `true` when a pattern matches the whole URL and no rule fails. */
  ok: boolean
  /** The first pattern that matches the whole URL, as Java's `matches()` would. */
  matchedPattern?: string
  /** When no pattern matches: for each pattern, why not. */
  misses: Array<{ pattern: string; reason: string }>
  problems: TerminalRequestProblem[]
}

/**
 * The answer of {@link checkAllowedUrls}.
 *
 * @example
 * ```ts
 * import { type AllowedUrlsReport, checkAllowedUrls } from 'evotor-partner'
 * const report: AllowedUrlsReport = checkAllowedUrls({ patterns: ['https://a\\.b/.*'], requests: ['https://a.b/'] })
 * report.ok // true
 * ```
 */
export interface AllowedUrlsReport {
  /** Every pattern valid and supported, every request allowed with no error. */
  ok: boolean
  patterns: AllowedUrlPatternReport[]
  requests: TerminalRequestReport[]
}

function patternReport(compiled: CompiledAllowedUrlPattern): AllowedUrlPatternReport {
  if (compiled.ok) return { pattern: compiled.pattern, status: 'ok', notes: compiled.notes }
  return {
    pattern: compiled.pattern,
    status: compiled.error.kind,
    error: compiled.error,
    notes: compiled.notes,
  }
}

function missReason(compiled: CompiledAllowedUrlPattern, url: string): string {
  if (!compiled.ok) {
    return compiled.error.kind === 'invalid'
      ? `the pattern is invalid, so it allows nothing: ${compiled.error.message}`
      : `the checker cannot answer for this pattern: ${compiled.error.message}`
  }
  const inner = compiled.regexp.source.slice('^(?:'.length, -')$'.length)
  const part = new RegExp(inner, 'u').exec(url)
  if (part !== null && part[0] !== '') {
    return `it matches only the part "${part[0]}": the portal needs the whole URL to match (end the pattern with .* to allow what follows)`
  }
  return 'no part of the URL matches it'
}

function urlProblems(url: string): TerminalRequestProblem[] {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return [
      {
        severity: 'error',
        rule: 'url',
        message: 'not an absolute URL: the terminal app calls absolute URLs',
      },
    ]
  }
  const problems: TerminalRequestProblem[] = []
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') {
    problems.push({
      severity: 'error',
      rule: 'protocol',
      message: 'WebSocket is not supported by the terminal',
    })
  } else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    problems.push({
      severity: 'error',
      rule: 'protocol',
      message: `${parsed.protocol} is not carried: only http and https`,
    })
  }
  if (parsed.port !== '' && parsed.port !== '80' && parsed.port !== '443') {
    problems.push({
      severity: 'error',
      rule: 'port',
      message: `port ${parsed.port}: terminal apps may only use ports 80 and 443`,
    })
  }
  return problems
}

function headerNames(headers: TerminalRequest['headers']): string[] {
  if (headers === undefined) return []
  return Array.isArray(headers) ? [...(headers as readonly string[])] : Object.keys(headers)
}

function requestReport(
  request: string | TerminalRequest,
  compiled: CompiledAllowedUrlPattern[],
): TerminalRequestReport {
  const {
    url,
    method: rawMethod = 'GET',
    contentType,
    headers,
  } = typeof request === 'string' ? { url: request } : request
  const method = rawMethod.toUpperCase()
  const problems = urlProblems(url)
  if (!(TERMINAL_METHODS as readonly string[]).includes(method)) {
    problems.push({
      severity: 'error',
      rule: 'method',
      message: `method ${method}: the terminal sends only ${TERMINAL_METHODS.join(', ')}`,
    })
  }
  if (contentType !== undefined && !isGuaranteedMediaType(contentType)) {
    problems.push({
      severity: 'warning',
      rule: 'media-type',
      message: `Content-Type ${contentType} is not guaranteed to be carried (guaranteed: application/x-www-form-urlencoded, application/json, application/xml, text/*, image/*, multipart/form-data)`,
    })
  }
  for (const name of headerNames(headers)) {
    if (isTerminalReservedHeader(name)) {
      problems.push({
        severity: 'error',
        rule: 'reserved-header',
        message: `header ${name} is reserved: the terminal overwrites it and the cloud removes it, so the service never sees the app's value`,
      })
    }
  }
  const match = compiled.find((pattern) => pattern.ok && pattern.regexp.test(url))
  const report: TerminalRequestReport = { method, url, ok: false, misses: [], problems }
  if (match !== undefined) report.matchedPattern = match.pattern
  else {
    report.misses = compiled.map((pattern) => ({
      pattern: pattern.pattern,
      reason: missReason(pattern, url),
    }))
    problems.unshift({
      severity: 'error',
      rule: 'pattern',
      message:
        compiled.length === 0
          ? 'no allowed-URL pattern is configured: the portal allows nothing'
          : 'no allowed-URL pattern matches the whole URL: the terminal refuses the request',
    })
  }
  report.ok = problems.every((problem) => problem.severity !== 'error')
  return report
}

/**
 * Checks the URLs a terminal app calls against the allowed-URL patterns of the developer portal,
 * the way the portal reads them (Java regular expressions, whole-URL match), and the other
 * terminal rules: ports 80/443 only, no WebSocket, methods GET/POST/PUT/DELETE, the guaranteed
 * media types and the reserved headers.
 *
 * @param input - The portal's patterns and the app's requests.
 * @returns A report per pattern (valid, refused by Java, or beyond the checker, with notes) and
 *   per request (the matching pattern, or why each pattern misses; rule problems).
 * @throws {TypeError} When `patterns` or `requests` is not an array.
 *
 * @example
 * ```ts
 * import { checkAllowedUrls } from 'evotor-partner'
 * const report = checkAllowedUrls({
 *   patterns: ['https://another\\.host\\.com/document.*\\.jsp'],
 *   requests: ['https://another.host.com/document1.jsp?x=1'],
 * })
 * report.ok // false
 * report.requests[0]?.misses[0]?.reason // 'it matches only the part "…/document1.jsp": the portal needs the whole URL …'
 * ```
 */
export function checkAllowedUrls(input: CheckAllowedUrlsInput): AllowedUrlsReport {
  if (!Array.isArray(input?.patterns))
    throw new TypeError('checkAllowedUrls: patterns must be an array of strings')
  if (!Array.isArray(input.requests)) throw new TypeError('checkAllowedUrls: requests must be an array')
  const compiled = input.patterns.map((pattern) => compileAllowedUrlPattern(pattern))
  const patterns = compiled.map(patternReport)
  const requests = input.requests.map((request) => requestReport(request, compiled))
  const ok = patterns.every((pattern) => pattern.status === 'ok') && requests.every((request) => request.ok)
  return { ok, patterns, requests }
}

/**
 * Whether the portal's patterns allow a URL: some pattern matches the whole URL, as Java's
 * `Pattern.matches()` does. Only the pattern is judged, not the port or protocol rules (see
 * {@link checkAllowedUrls} for those).
 *
 * @param patterns - One pattern or the list, exactly as entered on the developer portal.
 * @param url - The absolute URL the terminal app calls.
 * @returns `true` when a pattern matches the whole URL.
 * @throws {TypeError} When a pattern is invalid in Java (the portal would refuse it) or uses a
 *   construct the checker cannot translate; the message says which and where.
 *
 * @example
 * ```ts
 * import { matchesAllowedUrl } from 'evotor-partner'
 * matchesAllowedUrl('https://another\\.host\\.com/.*', 'https://another.host.com/x?y=1') // true
 * matchesAllowedUrl('https://another\\.host\\.com/document.*\\.jsp', 'https://another.host.com/document1.jsp?x=1') // false
 * ```
 */
export function matchesAllowedUrl(patterns: string | readonly string[], url: string): boolean {
  const list = typeof patterns === 'string' ? [patterns] : patterns
  let allowed = false
  for (const pattern of list) {
    const compiled = compileAllowedUrlPattern(pattern)
    if (!compiled.ok) {
      throw new TypeError(
        `matchesAllowedUrl: pattern ${JSON.stringify(pattern)} at ${compiled.error.index}: ${compiled.error.message}`,
      )
    }
    if (!allowed && compiled.regexp.test(url)) allowed = true
  }
  return allowed
}
