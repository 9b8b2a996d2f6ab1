/**
 * Pure verdicts on one answer: each returns `undefined` when the answer conforms, otherwise the
 * failure message for the report.
 */
import { fromProxyV1 } from '../core/proxy-envelope.js'
import type { Exchange } from './http.js'

const USER_TOKEN = /^[A-Za-z0-9_-]+$/

/**
 * Exactly HTTP 200 within the deadline (protocol §5.1).
 *
 * @internal
 *
 * @example
 * ```ts
 * const failure = expectExact200(exchange) // undefined when the answer is exactly HTTP 200
 * ```
 */
export function expectExact200(exchange: Exchange): string | undefined {
  if (exchange.failure !== undefined) return exchange.failure
  if (exchange.status === 200) return undefined
  if (exchange.status !== undefined && exchange.status >= 200 && exchange.status < 300) {
    return `expected exactly HTTP 200, got ${exchange.status}: Evotor confirms delivery only on 200 and re-sends otherwise`
  }
  return `expected exactly HTTP 200, got ${exchange.status}`
}

/**
 * The partner user token grammar: 1–128 characters of `[A-Za-z0-9_-]` (protocol §4.1, §4.3, §11 A7).
 *
 * @internal
 *
 * @example
 * ```ts
 * checkUserTokenFormat('x'.repeat(129)) // 'token is 129 characters long (max 128)'
 * ```
 */
export function checkUserTokenFormat(token: unknown): string | undefined {
  if (typeof token !== 'string' || token === '') return 'token must be a non-empty string'
  const problems: string[] = []
  if (token.length > 128) problems.push(`is ${token.length} characters long (max 128)`)
  if (!USER_TOKEN.test(token)) {
    const bad = [...new Set(token.replace(/[A-Za-z0-9_-]/g, ''))].slice(0, 5).join(' ')
    problems.push(`contains characters outside [A-Za-z0-9_-]: ${bad}`)
  }
  return problems.length === 0 ? undefined : `token ${problems.join(' and ')}`
}

/**
 * An Evotor error answer: the right HTTP status and `{ errors: [{ code, ... }] }` (protocol §5.3).
 *
 * @internal
 *
 * @example
 * ```ts
 * expectEvotorError(exchange, { status: 401, code: 1001 }) // undefined when it conforms
 * ```
 */
export function expectEvotorError(
  exchange: Exchange,
  expected: { status: number; code: number; subject?: RegExp },
): string | undefined {
  if (exchange.failure !== undefined) return exchange.failure
  const wanted = `HTTP ${expected.status} with {"errors":[{"code":${expected.code}}]}`
  if (exchange.status !== expected.status) return `expected ${wanted}, got HTTP ${exchange.status}`
  if (!exchange.isJson) return `expected ${wanted}, got a body that is not JSON`
  const errors = (exchange.json as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors) || errors.length === 0) {
    return `expected ${wanted}, got a body without a non-empty "errors" array`
  }
  const item = errors.find(
    (entry): entry is Record<string, unknown> =>
      typeof entry === 'object' && entry !== null && (entry as { code?: unknown }).code === expected.code,
  )
  if (item === undefined) {
    const codes = errors.map((entry) => JSON.stringify((entry as { code?: unknown } | null)?.code)).join(', ')
    return `expected ${wanted}, got codes ${codes} (codes are integers, protocol §11 A25)`
  }
  if (expected.subject !== undefined) {
    const subject = item.subject
    if (typeof subject !== 'string' || !expected.subject.test(subject)) {
      return `expected "subject" naming the missing field (${expected.subject.source}), got ${JSON.stringify(subject)}`
    }
  }
  return undefined
}

/**
 * A proxied answer as the terminal app sees it: unwrapped in ver. 1.
 *
 * @internal
 *
 * @example
 * ```ts
 * const answer: ProxyAnswer | string = readProxyAnswer(exchange, 1) // a string is the failure
 * ```
 */
export interface ProxyAnswer {
  status: number
  body: unknown
}

/**
 * Reads a proxied answer. In ver. 1 the outer answer must be HTTP 200 with a `{status, body}`
 * envelope (protocol §7.4); in ver. 2 it passes through. Returns a failure message instead when
 * the answer breaks that.
 *
 * @internal
 *
 * @example
 * ```ts
 * const answer = readProxyAnswer(exchange, 2)
 * if (typeof answer !== 'string') console.log(answer.status, answer.body)
 * ```
 */
/**
 * Which proxy version an answer looks like it was written for: `1` for HTTP 200 with a
 * `{"status": <int>, "body": …}` envelope, `2` for anything else, `undefined` without an answer.
 *
 * @internal
 */
export function apparentProxyVersion(exchange: Exchange): 1 | 2 | undefined {
  if (exchange.failure !== undefined || exchange.status === undefined) return undefined
  if (exchange.status !== 200 || !exchange.isJson) return 2
  const json = exchange.json
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 2
  const keys = Object.keys(json)
  const status = (json as { status?: unknown }).status
  const enveloped =
    keys.includes('status') &&
    keys.every((key) => key === 'status' || key === 'body') &&
    Number.isInteger(status)
  return enveloped ? 1 : 2
}

export function readProxyAnswer(exchange: Exchange, proxyVersion: 1 | 2): ProxyAnswer | string {
  if (exchange.failure !== undefined) return exchange.failure
  const status = exchange.status ?? 0
  if (proxyVersion === 2) return { status, body: exchange.isJson ? exchange.json : exchange.text }
  if (status !== 200) {
    return `proxy ver. 1 answers must be HTTP 200 with a {"status","body"} envelope, got HTTP ${status}`
  }
  try {
    return fromProxyV1(exchange.text, { parseJson: true })
  } catch {
    return 'proxy ver. 1 answer is not a {"status": <int>, "body": …} envelope'
  }
}
