/** Express's side of the I/O: writing an answer on a Node response, and body-parser failures. */
import { type ServerResponse, STATUS_CODES } from 'node:http'
import { EvotorError, isEvotorError } from '../core/evotor-error.js'
import type { WebhookResponse } from '../core/http-types.js'

/** Writes an answer on a Node response, with its length. */
export function sendNode(res: ServerResponse, response: WebhookResponse): void {
  res.statusCode = response.status
  // The status text goes with the status: a framework's 404 enveloped in a 200 is `200 OK`.
  res.statusMessage = STATUS_CODES[response.status] ?? ''
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value)
  res.setHeader('content-length', Buffer.byteLength(response.body))
  res.end(response.body)
}

/** The `EvotorError` for a thrown error: itself, or body-parser's parse (2001) and size (413) failures. */
export function toEvotorError(error: unknown): EvotorError | undefined {
  if (isEvotorError(error)) return error
  const { type, limit } = (error ?? {}) as { type?: unknown; limit?: unknown }
  // body-parser (`express.json()` …) failures, when it is mounted before the webhooks.
  if (type === 'entity.parse.failed') return EvotorError.syntax()
  if (type === 'entity.too.large') return EvotorError.payloadTooLarge(typeof limit === 'number' ? limit : 0)
  return undefined
}

/** An http-errors style 4xx (`createError(404)`): the app's own answer, left to Express. */
export function isClientError(error: unknown): boolean {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown }
  const code = status ?? statusCode
  return typeof code === 'number' && code >= 400 && code < 500
}
