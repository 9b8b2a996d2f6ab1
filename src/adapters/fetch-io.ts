/** The Fetch side of the I/O: an answer as a `Response`, and what a route answered, for ver. 1. */
import { isEvotorError } from '../core/evotor-error.js'
import type { WebhookResponse } from '../core/http-types.js'
import type { EvotorProxy, EvotorProxyContext, EvotorProxyHeader } from '../core/proxy.js'
import type { ProxyInnerResponse } from '../core/proxy-envelope.js'
import { envelopeOf, INNER_ONLY_HEADERS } from '../core/serve-proxied.js'
import type { WebhookFlow } from '../core/serve-webhook.js'
import { readWebBody } from './web-body.js'

/**
 * A Fetch-style route handler behind `withEvotorProxy`: gets the verified context, whose ids the
 * proxy requires (`R`; all three by default) are `string`.
 *
 * @example
 * ```ts
 * const handler: EvotorProxyHandler<'storeUuid'> = async (_request, evotor) => Response.json(evotor.storeUuid)
 * ```
 */
export type EvotorProxyHandler<R extends EvotorProxyHeader = never> = (
  request: Request,
  evotor: EvotorProxyContext<R>,
) => Response | Promise<Response>

const encoder = new TextEncoder()

/** The answer as a `Response` (no body for HEAD, 204, 304), with `extra` headers under it. */
export function toResponse(request: Request, answer: WebhookResponse, extra?: Headers): Response {
  const headers = new Headers(extra)
  for (const [name, value] of Object.entries(answer.headers)) headers.set(name, value)
  const bytes = encoder.encode(answer.body)
  const bodiless = answer.status === 204 || answer.status === 304
  if (!bodiless) headers.set('content-length', String(bytes.byteLength))
  const empty = request.method === 'HEAD' || bytes.byteLength === 0 || bodiless
  return new Response(empty ? null : bytes, { status: answer.status, headers })
}

/** Reads a route's `Response` for the envelope; copies its headers except the inner-only ones into `kept`. */
export async function fetchInnerResponse(response: Response, kept: Headers): Promise<ProxyInnerResponse> {
  const body = new Uint8Array(await response.arrayBuffer())
  response.headers.forEach((value, name) => {
    kept.append(name, value)
  })
  for (const name of INNER_ONLY_HEADERS) kept.delete(name)
  return { status: response.status, body, contentType: response.headers.get('content-type') ?? undefined }
}

/** Serves one webhook request (its path matched) through the flow, reading the body as a web stream. */
export async function serveWebRequest(flow: WebhookFlow, request: Request, path: string): Promise<Response> {
  const body = async (limit: number, timeoutMs: number) => ({
    body: await readWebBody(request, limit, timeoutMs),
  })
  const query = new URL(request.url).searchParams
  const { method, headers } = request
  return toResponse(request, await flow.serve({ method, path, query, headers, body }))
}

/**
 * Runs a verified request's route: ver. 2 passes its `Response` through (an `EvotorError` it throws
 * becomes the error answer); ver. 1 wraps every outcome in the envelope.
 */
export async function runProxiedHandler(
  proxy: EvotorProxy,
  request: Request,
  context: EvotorProxyContext,
  handler: EvotorProxyHandler<EvotorProxyHeader>,
): Promise<Response> {
  // The proxy answered 400 already when a required header was missing.
  const guaranteed = context as EvotorProxyContext<EvotorProxyHeader>
  if (proxy.proxyVersion === 2) {
    try {
      return await handler(request, guaranteed)
    } catch (error) {
      if (!isEvotorError(error)) throw error
      return toResponse(request, proxy.errorResponse(error))
    }
  }
  const kept = new Headers()
  const run = async () => fetchInnerResponse(await handler(request, guaranteed), kept)
  return toResponse(request, await envelopeOf(proxy, run), kept)
}
