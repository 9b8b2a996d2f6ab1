/** The Hono side of the I/O: the typed `c.var.evotor`, and reading or replacing what a route answered. */
import type { Context } from 'hono'
import type { HeadersLike } from '../core/http-types.js'
import type { EvotorProxyContext } from '../core/proxy.js'

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
export type EvotorEnv = { Variables: EvotorVariables }

/** Replaces the response; Hono would otherwise copy the old one's headers (its length too) onto it. */
export function replace(c: Context, response: Response): void {
  c.res = undefined
  c.res = response
}

// Hono's default `notFound` page; in ver. 1 it becomes `{}`, as Koa's and Express's 404 pages do.
export async function isFrameworkNotFound(response: Response): Promise<boolean> {
  if (response.status !== 404 || !response.headers.get('content-type')?.startsWith('text/plain')) return false
  return (await response.clone().text()) === '404 Not Found'
}

/**
 * The request headers to authenticate: on Node through `@hono/node-server`, the `IncomingMessage`'s
 * own header object (`c.env.incoming`), read as Koa and Express read it; elsewhere the Fetch
 * `Headers`. `@hono/node-server` builds a Fetch `Headers` from the raw headers on first read, which
 * costs more than the proxy's own work, so the proxy does not trigger it.
 */
export function requestHeaders(c: Context): HeadersLike {
  const incoming = (c.env as { incoming?: { headers?: unknown; rawHeaders?: unknown } } | undefined)?.incoming
  const headers = incoming?.headers
  if (typeof headers === 'object' && headers !== null && Array.isArray(incoming?.rawHeaders)) {
    return headers as Readonly<Record<string, string | readonly string[] | undefined>>
  }
  return c.req.raw.headers
}
