import type { EvotorError } from './evotor-error.js'
import type { WebhookResponse } from './http-types.js'

/**
 * The content type of every JSON answer (protocol §11 A43).
 *
 * @internal
 *
 * @example
 * ```ts
 * res.setHeader('content-type', JSON_CONTENT_TYPE) // 'application/json;charset=UTF-8'
 * ```
 */
export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8'

/**
 * A JSON answer.
 *
 * @internal
 *
 * @example
 * ```ts
 * jsonResponse(200, { ok: true }) // { status: 200, headers: { 'content-type': … }, body: '{"ok":true}' }
 * ```
 */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): WebhookResponse {
  return { status, headers: { ...headers, 'content-type': JSON_CONTENT_TYPE }, body: JSON.stringify(body) }
}

/**
 * The answer for an `EvotorError`: its status, its headers and the Evotor error envelope.
 *
 * @internal
 *
 * @example
 * ```ts
 * evotorErrorResponse(EvotorError.invalidUserToken()) // 401, WWW-Authenticate, '{"errors":[{"code":1002}]}'
 * ```
 */
export function evotorErrorResponse(error: EvotorError): WebhookResponse {
  return jsonResponse(error.status, error.toBody(), { ...error.headers })
}
