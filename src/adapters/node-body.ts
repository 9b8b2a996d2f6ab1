import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { deadlineQueue } from '../core/deadlines.js'
import { EvotorError } from '../core/evotor-error.js'
import { bodyTimedOut, DEFAULT_BODY_TIMEOUT_MS, LINGER } from '../core/request-guards.js'

/** Sockets whose `destroySoon` is replaced by {@link lingerAfterAnswer} (armed once per socket). */
const ARMED = new WeakSet<Socket>()

/** Reads and drops the rest of the upload within the {@link LINGER} bounds, then destroys the socket. */
function linger(socket: Socket, req: IncomingMessage): void {
  let seen = 0
  const close = (): void => {
    clearTimeout(total)
    clearTimeout(idle)
    req.off('data', onData)
    req.off('end', close)
    socket.off('close', close)
    // Node's own: destroys once the answer is flushed (the override is already gone).
    if (!socket.destroyed) socket.destroySoon()
  }
  const onData = (chunk: Buffer | string): void => {
    seen += chunk.length
    if (seen > LINGER.bytes) close()
    else idle.refresh()
  }
  const total = setTimeout(close, LINGER.totalMs).unref()
  const idle = setTimeout(close, LINGER.idleMs).unref()
  if (req.readableEnded) {
    close()
    return
  }
  req.on('data', onData)
  // The whole upload has been read: closing now resets nothing.
  req.once('end', close)
  socket.once('close', close)
  req.resume()
}

/**
 * Arms nginx's "lingering close" for an early answer (413, 408) sent with `Connection: close`. Node's
 * HTTP server calls `socket.destroySoon()` once such an answer is written, and a client still uploading
 * would then get a reset (EPIPE, ECONNRESET) instead of reading it. Here the answer goes out with a FIN,
 * the rest of the upload is read and dropped within the {@link LINGER} bounds, and then the socket closes.
 */
function lingerAfterAnswer(req: IncomingMessage): void {
  // Until the answer is written, whatever still arrives is dropped, not buffered.
  req.resume()
  const socket = req.socket as Socket | null
  if (typeof socket?.destroySoon !== 'function' || socket.destroyed || ARMED.has(socket)) return
  ARMED.add(socket)
  socket.destroySoon = function lingeringClose(this: Socket): void {
    delete (this as Partial<Socket>).destroySoon
    ARMED.delete(this)
    this.end()
    linger(this, req)
  }
}

/**
 * Reads the raw body of a Node request with a byte limit and a deadline. Over the limit (by
 * `Content-Length` at once, or as soon as the stream passes it) rejects with a 413 `EvotorError`; not
 * complete within `timeoutMs` (a trickled or stalled body), with a 408. Both carry `Connection: close`,
 * and the rest of the upload is read and dropped after the answer (within bounds) so that the client
 * reads the answer instead of a reset.
 *
 * @example
 * ```ts
 * const bytes = await readNodeBody(req, 1024 * 1024, 5000)
 * ```
 */
export function readNodeBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs: number = DEFAULT_BODY_TIMEOUT_MS,
): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    lingerAfterAnswer(req)
    return Promise.reject(EvotorError.payloadTooLarge(limit))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    // Once settled, the listeners still attached do nothing: a body read to its end leaves them on a
    // request that is done (removing four listeners costs more than the rest of a small body's read).
    let settled = false
    const settle = (): boolean => {
      if (settled) return false
      settled = true
      deadlines.cancel(deadline)
      return true
    }
    const refuse = (error: EvotorError): void => {
      if (!settle()) return
      req.off('data', onData)
      chunks.length = 0
      lingerAfterAnswer(req)
      reject(error)
    }
    const onData = (chunk: Buffer | string): void => {
      if (settled) return
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      size += bytes.length
      if (size > limit) refuse(EvotorError.payloadTooLarge(limit))
      else chunks.push(bytes)
    }
    const onEnd = (): void => {
      if (settle()) resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error): void => {
      if (settle()) reject(error)
    }
    const onClose = (): void => {
      if (settle()) reject(new Error('evotor-partner: the request was aborted before its body was read'))
    }
    // One shared timer for every body being read (deadlines.ts), not a Node timer per request.
    const deadlines = deadlineQueue(timeoutMs)
    const deadline = deadlines.add(() => refuse(bodyTimedOut(timeoutMs)))
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

/**
 * The body of a Node request for the webhook flow: what a framework parser left (`holder.body`,
 * `holder.rawBody`, koa-body's unparsed-body symbol) when the stream was already read, else the raw
 * bytes read with the limit and the clock.
 *
 * @example
 * ```ts
 * const { body, parsedBody } = await nodeBody(req, req, limit, timeoutMs)
 * ```
 */
export async function nodeBody(
  req: IncomingMessage,
  holder: { body?: unknown; rawBody?: unknown },
  limit: number,
  timeoutMs: number,
): Promise<{ body: unknown; parsedBody: boolean }> {
  if (!bodyWasRead(req)) return { body: await readNodeBody(req, limit, timeoutMs), parsedBody: false }
  const parsed = holder.body
  const unparsed =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<symbol, unknown>)[Symbol.for('unparsedBody')]
      : undefined
  return preParsedBody(parsed, holder.rawBody ?? unparsed)
}
