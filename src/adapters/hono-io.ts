/** The Hono side of the I/O: the typed `c.var.evotor`, and reading or replacing what a route answered. */
import type { Context, ErrorHandler } from 'hono'
import { setEvotorContext } from '../core/evotor-context.js'
import { isEvotorError } from '../core/evotor-error.js'
import type { EvotorProxy, EvotorProxyContext, EvotorProxyHeader } from '../core/proxy.js'
import { evotorErrorResponse, jsonResponse } from '../core/responses.js'
import { admitProxied, envelopeOf, type ProxyAdmission } from '../core/serve-proxied.js'
import { fetchInnerResponse, isFrameworkNotFound, type KeptHeaders, toResponse } from './fetch-io.js'
import { incomingMethod, type NodeIncoming, nodeIncomingOf } from './hono-node-server.js'

/**
 * The variables `evotorProxy` sets: `c.var.evotor`, the verified proxy context.
 * @example `const app = new Hono<{ Variables: EvotorVariables }>()`
 */
export interface EvotorVariables {
  /** The verified proxy context of the terminal request. */
  evotor: EvotorProxyContext
}

/**
 * A Hono `Env` with `c.var.evotor` typed: `new Hono<EvotorEnv>()` for the routes behind the proxy.
 * @example `const app = new Hono<EvotorEnv>(); app.get('/terminal/me', (c) => c.json({ userId: c.var.evotor.userId }))`
 */
export type EvotorEnv<R extends EvotorProxyHeader = never> = {
  // With `R`, the ids it names are `string` (what `withEvotorProxy` with `requiredHeaders` guarantees).
  Variables: [R] extends [never]
    ? EvotorVariables
    : Omit<EvotorVariables, 'evotor'> & { evotor: EvotorProxyContext<R> }
}

/** Throws `error` when there is one (what Hono caught from the route). */
export function rethrow(error: Error | undefined): void {
  if (error !== undefined) throw error
}

export const noAnswer = (): undefined => undefined

/** Runs the rest of the chain, then `done`; a rejection (a non-`Error` thrown, which Hono rethrows) ends quietly, as Hono answered. */
export function afterRoute(next: () => Promise<void>, done: () => void): Promise<undefined> {
  let running: Promise<void>
  try {
    running = next()
  } catch {
    return Promise.resolve(undefined)
  }
  return running.then(() => {
    done()
    return undefined
  }, noAnswer)
}

/** Replaces the response; Hono would otherwise copy the old one's headers (its length too) onto it. */
export function replace(c: Context, response: Response): void {
  c.res = undefined
  c.res = response
}

/**
 * Ver. 1: runs the route (`run` rethrows what Hono caught) and replaces its answer with the
 * `{status, body}` envelope of it; the route's own headers that still apply are kept.
 */
export async function enveloped(proxy: EvotorProxy, c: Context, run: () => Promise<void>): Promise<void> {
  const kept: KeptHeaders = []
  const inner = async () => {
    await run()
    if (await isFrameworkNotFound(c.res)) return { status: 404, body: {}, contentType: 'application/json' }
    return fetchInnerResponse(c.res, kept)
  }
  replace(c, toResponse(c.req.raw, await envelopeOf(proxy, inner), kept))
}

/**
 * `c.env.incoming` when Hono runs on Node through `@hono/node-server` (what looks like Node's
 * `IncomingMessage`), else `undefined`. The proxy reads the method and headers there, and stores
 * the context on it, without asking Hono for its `Request`: `c.req` builds a `HonoRequest` on first
 * read, and `@hono/node-server` builds a Fetch `Headers` from the raw headers on first read of
 * `request.headers`; either costs more than the proxy's own work. `getEvotorContext(c.req.raw)`
 * finds a context stored on the `IncomingMessage` through the `Request` made from it.
 */
export function honoIncoming(c: Context): NodeIncoming | undefined {
  return nodeIncomingOf((c.env as { incoming?: unknown } | undefined)?.incoming)
}

/**
 * The proxy's admission of a Hono request: on Node through `@hono/node-server` (`incoming`, see
 * {@link honoIncoming}) the `IncomingMessage`'s method and own header object, read as Koa and
 * Express read them; elsewhere the Fetch `Request`'s.
 */
export function admitHono(
  proxy: EvotorProxy,
  c: Context,
  incoming: NodeIncoming | undefined,
): ProxyAdmission | Promise<ProxyAdmission> {
  if (incoming !== undefined) return admitProxied(proxy, incomingMethod(incoming), incoming.headers, 'node')
  const request = c.req.raw
  return admitProxied(proxy, request.method, request.headers)
}

/** Remembers the context for `getEvotorContext(c.req.raw)`: on Node on the `IncomingMessage` (see {@link honoIncoming}). */
export function storeHonoContext(
  c: Context,
  incoming: NodeIncoming | undefined,
  context: EvotorProxyContext,
): void {
  setEvotorContext(incoming ?? c.req.raw, context)
}

/**
 * A Hono error handler: an `EvotorError` answers its status and Evotor body, Hono's `HTTPException`
 * its own response; anything else is logged (`console.error`, as Hono's default does) and answers
 * 500 `{}` with no message or stack.
 * @param error - what was thrown.
 * @param c - the context.
 * @returns the answer.
 * @example `app.onError(evotorErrorHandler)`
 */
export const evotorErrorHandler: ErrorHandler = (error, c) => {
  if (isEvotorError(error)) return toResponse(c.req.raw, evotorErrorResponse(error))
  const exception = error as { getResponse?: unknown }
  if (typeof exception.getResponse === 'function') return (exception.getResponse as () => Response)()
  console.error(error)
  return toResponse(c.req.raw, jsonResponse(500, {}))
}
