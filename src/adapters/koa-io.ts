/** Koa's side of the I/O: writing an answer on `ctx`, and reading what a route answered for ver. 1. */
import type { Context } from 'koa'
import type { WebhookResponse } from '../core/http-types.js'
import type { ProxyInnerResponse } from '../core/proxy-envelope.js'
import { dropInnerHeaders } from '../core/serve-proxied.js'

/**
 * Writes an answer on `ctx`: no compression, no content type unless the answer has one. The headers go
 * straight to Node's response (what Koa's `ctx.set` ends in, without its per-call arrays and delegate).
 */
export function send(ctx: Context, response: WebhookResponse): void {
  const res = ctx.res
  const headers = response.headers
  if (!res.headersSent) {
    // A 200 over a response that says 200 already (what a route's body left) needs no setter: a body
    // set on a status nobody chose makes it 200 anyway. A reason phrase the route set is reset.
    if (response.status !== 200 || res.statusCode !== 200) ctx.status = response.status
    else if (res.statusMessage && res.statusMessage !== 'OK') res.statusMessage = 'OK'
    const names = Object.keys(headers)
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      res.setHeader(name, headers[name] as string)
    }
    // Only when there: a removal makes Node's header map a slower dictionary.
    if (res.hasHeader('content-encoding')) res.removeHeader('content-encoding')
  }
  ctx.body = response.body
  if (headers['content-type'] === undefined && !res.headersSent) res.removeHeader('content-type')
}

/** Writes a ver. 1 envelope over what the route left: its inner-only headers go first. */
export function sendEnvelope(ctx: Context, envelope: WebhookResponse): void {
  if (!ctx.headerSent) dropInnerHeaders(ctx.res)
  send(ctx, envelope)
}

/** Bodies that must be read before they can be enveloped. */
function isStreamed(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false
  // A route's JSON answer first: a plain object or an array is never a stream.
  const proto: unknown = Object.getPrototypeOf(body)
  if (proto === Object.prototype || proto === null || Array.isArray(body) || body instanceof Uint8Array)
    return false
  return (
    typeof (body as NodeJS.ReadableStream).pipe === 'function' ||
    body instanceof Blob ||
    body instanceof ReadableStream ||
    body instanceof Response
  )
}

async function readStreamed(body: unknown): Promise<Uint8Array> {
  if (typeof (body as NodeJS.ReadableStream).pipe === 'function') {
    const chunks: Buffer[] = []
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk))
    return Buffer.concat(chunks)
  }
  if (body instanceof Response) return new Uint8Array(await body.arrayBuffer())
  return new Uint8Array(await new Response(body as Blob | ReadableStream).arrayBuffer())
}

/** The status, body and content type the downstream left on `ctx`; Koa's own 404 is `{}` (§11 A27). */
export function koaInnerResponse(ctx: Context): ProxyInnerResponse | Promise<ProxyInnerResponse> {
  // `ctx.response.get()` copies every header (`res.getHeaders()`); one header is enough here.
  const type = ctx.res.getHeader('content-type')
  const contentType = typeof type === 'string' && type !== '' ? type : undefined
  const body: unknown = ctx.body
  if (body === undefined || body === null) {
    return { status: ctx.status, body: ctx.status === 404 ? {} : undefined, contentType }
  }
  // A promise only for a stream, which must be read before it can be enveloped.
  if (!isStreamed(body)) return { status: ctx.status, body, contentType }
  return readStreamed(body).then((bytes) => ({ status: ctx.status, body: bytes, contentType }))
}
