import type { IncomingMessage } from 'node:http'
import { EvotorError } from '../core/evotor-error.js'
import { DEFAULT_BODY_LIMIT } from '../core/http-types.js'

/**
 * How much of an oversized body is still read and thrown away before the 413 goes out: a client
 * that is still uploading when the server closes the socket sees a reset instead of the answer.
 * Past this, the 413 is sent at once and the connection is closed.
 */
const DRAIN_LIMIT = 1024 * 1024

/**
 * Validates the `bodyLimit` option of an adapter (bytes, a positive integer; default 10 MB,
 * protocol §12).
 *
 * @example
 * ```ts
 * const limit = resolveBodyLimit('evotorWebhooks', options.bodyLimit) // 10485760 when undefined
 * ```
 */
export function resolveBodyLimit(where: string, value: unknown): number {
  if (value === undefined) return DEFAULT_BODY_LIMIT
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${where}: bodyLimit must be a positive integer (bytes)`)
  }
  return value
}

/** How long an oversized body is drained before the 413 goes out anyway. */
const DRAIN_TIMEOUT_MS = 1000

function discard(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded || req.destroyed) {
      resolve()
      return
    }
    let seen = 0
    // A client that declared a huge body and then sends nothing must not hold the answer back.
    const timer = setTimeout(() => done(), DRAIN_TIMEOUT_MS)
    const done = (): void => {
      clearTimeout(timer)
      req.off('data', onData)
      req.off('end', done)
      req.off('close', done)
      req.off('error', done)
      resolve()
    }
    // Stays in flowing mode after `done`: whatever still arrives is dropped, not buffered.
    const onData = (chunk: Buffer | string): void => {
      seen += chunk.length
      if (seen > DRAIN_LIMIT) done()
    }
    req.on('data', onData)
    req.once('end', done)
    req.once('close', done)
    req.once('error', done)
    req.resume()
  })
}

/**
 * Reads the raw body of a Node request with a byte limit: rejects with a 413 `EvotorError` at once
 * when `Content-Length` is over the limit, or as soon as the stream passes it; the rest of the
 * body is drained (up to 1 MB) so the client gets the 413 instead of a reset.
 *
 * @example
 * ```ts
 * const bytes = await readNodeBody(req, 1024 * 1024)
 * ```
 */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    return discard(req).then(() => Promise.reject(EvotorError.payloadTooLarge(limit)))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += bytes.length
      if (size > limit) {
        cleanup()
        chunks.length = 0
        discard(req).then(() => reject(EvotorError.payloadTooLarge(limit)))
        return
      }
      chunks.push(bytes)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(error)
    }
    const onClose = (): void => {
      cleanup()
      reject(new Error('evotor-partner: the request was aborted before its body was read'))
    }
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', onError)
    req.once('close', onClose)
    req.resume()
  })
}

/**
 * Whether a body parser already read the request stream (body-parser sets `req._body`; koa-body,
 * co-body and raw-body read it to the end).
 *
 * @example
 * ```ts
 * if (!bodyWasRead(req)) body = await readNodeBody(req, limit)
 * ```
 */
export function bodyWasRead(req: IncomingMessage): boolean {
  return (req as { _body?: unknown })._body === true || req.readableEnded
}

/**
 * What the adapters hand the dispatcher for a body a framework parser produced: raw text or bytes
 * when available (so bad JSON still answers 2001), else the parsed value with `parsedBody`.
 *
 * @example
 * ```ts
 * const { body, parsedBody } = preParsedBody(req.body, req.rawBody)
 * ```
 */
export function preParsedBody(parsed: unknown, raw: unknown): { body: unknown; parsedBody: boolean } {
  if (typeof raw === 'string' || raw instanceof Uint8Array) return { body: raw, parsedBody: false }
  if (parsed === undefined || parsed === null) return { body: '', parsedBody: false }
  if (typeof parsed === 'string' || parsed instanceof Uint8Array) return { body: parsed, parsedBody: false }
  return { body: parsed, parsedBody: true }
}
