import { EvotorError } from '../core/evotor-error.js'
import { bodyTimedOut, LINGER } from '../core/request-guards.js'

const TIMED_OUT = Symbol('timed out')

/** A promise of {@link TIMED_OUT} after `ms`, and how to stop its timer. */
function deadline(ms: number): { expired: Promise<typeof TIMED_OUT>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT)
  })
  return { expired, clear: () => clearTimeout(timer) }
}

/**
 * Reads and drops the rest of a refused body within the {@link LINGER} bounds, then cancels it. The
 * socket is the runtime's here: a Node bridge closes it as soon as the answer is written, so a 413 waits
 * for this (the client then reads the answer, not a reset); a 408 does not (that body is not coming).
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  const total = deadline(LINGER.totalMs)
  try {
    for (let seen = 0; seen <= LINGER.bytes; ) {
      const idle = deadline(LINGER.idleMs)
      const result = await Promise.race([reader.read(), idle.expired, total.expired]).finally(idle.clear)
      if (result === TIMED_OUT || result.done) break
      seen += result.value.byteLength
    }
  } catch {
    // The client went away: nothing left to drop.
  } finally {
    total.clear()
    await reader.cancel().catch(() => {})
  }
}

/**
 * Reads the body of a Fetch `Request` with a byte limit and a deadline: over the limit rejects with a
 * 413 `EvotorError` (after dropping the rest, within bounds), not complete within `timeoutMs` with a 408
 * (the rest is dropped in the background). Both carry `Connection: close`.
 *
 * @example
 * ```ts
 * const bytes = await readWebBody(request, 1024 * 1024, 5000)
 * ```
 */
export async function readWebBody(request: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > limit) {
    if (request.body !== null) await discardRest(request.body.getReader())
    throw EvotorError.payloadTooLarge(limit)
  }
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const clock = deadline(timeoutMs)
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), clock.expired])
      if (next === TIMED_OUT) {
        void discardRest(reader)
        throw bodyTimedOut(timeoutMs)
      }
      if (next.done) break
      size += next.value.byteLength
      if (size > limit) {
        await discardRest(reader)
        throw EvotorError.payloadTooLarge(limit)
      }
      chunks.push(next.value)
    }
  } finally {
    clock.clear()
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
