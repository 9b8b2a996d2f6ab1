/** Koa's side of the I/O: writing an answer on `ctx`, and reading what a route answered for ver. 1. */
import type { Context } from 'koa'
import type { WebhookResponse } from '../core/http-types.js'
import type { ProxyInnerResponse } from '../core/proxy-envelope.js'
import { dropInnerHeaders } from '../core/serve-proxied.js'

/** Writes an answer on `ctx`: no compression, no content type unless the answer has one. */
export function send(ctx: Context, response: WebhookResponse): void {
  ctx.status = response.status
  const headers = response.headers
  const names = Object.keys(headers)
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string
    ctx.set(name, headers[name] as string)
  }
  // Only when there: a removal makes Node's header map a slower dictionary.
  if (ctx.res.hasHeader('content-encoding')) ctx.remove('Content-Encoding')
  ctx.body = response.body
  if (headers['content-type'] === undefined) ctx.remove('Content-Type')
}

/** Writes a ver. 1 envelope over what the route left: its inner-only headers go first. */
export function sendEnvelope(ctx: Context, envelope: WebhookResponse): void {
  if (!ctx.headerSent) dropInnerHeaders(ctx.res)
  send(ctx, envelope)
}

/** Bodies that must be read before they can be enveloped. */
function isStreamed(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || body instanceof Uint8Array) return false
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
