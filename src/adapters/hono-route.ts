/**
 * One Hono route behind the proxy, with no middleware of its own: Hono calls a route that is the only
 * handler of its path directly, while a middleware in front of it makes Hono compose the two (which
 * alone costs more than the proxy's own work; see the README's Performance section).
 */
import type { Context, Env, Handler } from 'hono'
import { isEvotorError } from '../core/evotor-error.js'
import {
  type DefaultRequiredHeaders,
  type EvotorProxy,
  type EvotorProxyContext,
  type EvotorProxyHeader,
  type EvotorProxyOptions,
  type GuaranteedHeaders,
  resolveEvotorProxy,
} from '../core/proxy.js'
import type { ProxyAdmission } from '../core/serve-proxied.js'
import { envelopedResponse, toResponse } from './fetch-io.js'
import { admitHono, type EvotorEnv, honoIncoming, storeHonoContext } from './hono-io.js'
import type { NodeIncoming } from './hono-node-server.js'

type Route = (c: Context<EvotorEnv<EvotorProxyHeader>>) => Response | Promise<Response>

/**
 * {@link withEvotorProxy} for an app whose `Env` has `Bindings` or other `Variables`: its routes see
 * `c.env` and `c.var` as the app declares them, and `c.var.evotor` typed as the proxy guarantees.
 *
 * @example
 * ```ts
 * type AppEnv = { Bindings: { DB: D1Database }; Variables: { requestId: string } }
 * const route: WithEvotorProxy<AppEnv> = withEvotorProxyFor<AppEnv>()
 * ```
 */
export interface WithEvotorProxy<E extends Env> {
  <C extends EvotorProxyContext>(
    proxy: EvotorProxy<C>,
    handler: (c: Context<EvotorRouteEnv<E, C>>) => Response | Promise<Response>,
  ): Handler<E>
  <const H extends readonly EvotorProxyHeader[] = DefaultRequiredHeaders>(
    proxy: EvotorProxyOptions & { requiredHeaders?: H },
    handler: (
      c: Context<EvotorRouteEnv<E, EvotorProxyContext<GuaranteedHeaders<H>>>>,
    ) => Response | Promise<Response>,
  ): Handler<E>
}

/**
 * The `Env` a route of {@link withEvotorProxyFor} sees: the app's `Bindings` and `Variables`, with
 * `c.var.evotor` as the proxy sets it (in place of an `evotor` variable the app declared itself).
 *
 * @example
 * ```ts
 * type AppEnv = { Bindings: { DB: D1Database }; Variables: { requestId: string } }
 * const route = (c: Context<EvotorRouteEnv<AppEnv, EvotorProxyContext<'userId'>>>) => c.text(c.var.evotor.userId)
 * ```
 */
export type EvotorRouteEnv<E extends Env, C> = (E extends { Bindings: infer B extends object }
  ? { Bindings: B }
  : object) & {
  Variables: Omit<E extends { Variables: infer V } ? V : object, 'evotor'> & { evotor: C }
}

/** Ver. 2: an `EvotorError` the route throws answers its Evotor body; Hono's `onError` gets the rest. */
function answerError(proxy: EvotorProxy, c: Context, error: unknown): Response {
  if (!isEvotorError(error)) throw error
  return toResponse(c.req.raw, proxy.errorResponse(error))
}

/**
 * One terminal-facing Hono route behind the proxy (flow A, protocol §2, §3.2): verifies the user token,
 * then the `X-Evotor-*` headers (401/400 otherwise), and runs `handler` with `c.var.evotor` set, its
 * required ids (all three by default) typed `string`. A thrown `EvotorError` answers its Evotor body;
 * `proxyVersion: 1` wraps every outcome in the `{status, body}` envelope (§7.4). The cheaper form of
 * the `evotorProxy` middleware for one route: Hono runs a path's only handler without composing middleware.
 * @param proxy - `createEvotorProxy()`'s result, or its options.
 * @param handler - the route; it returns a `Response` (`c.json(…)`).
 * @returns the Hono handler.
 * @throws TypeError when `handler` or the proxy options are not valid.
 * @example
 * ```ts
 * const proxy = createEvotorProxy({ userTokens: tokens, requiredHeaders: ['userId', 'storeUuid'] })
 * app.get('/terminal/stock', withEvotorProxy(proxy, (c) => c.json(stockOf(c.var.evotor.storeUuid))))
 * ```
 */
export function withEvotorProxy<C extends EvotorProxyContext>(
  proxy: EvotorProxy<C>,
  handler: (c: Context<{ Variables: { evotor: C } }>) => Response | Promise<Response>,
): Handler
export function withEvotorProxy<const H extends readonly EvotorProxyHeader[] = DefaultRequiredHeaders>(
  proxy: EvotorProxyOptions & { requiredHeaders?: H },
  handler: (c: Context<EvotorEnv<GuaranteedHeaders<H>>>) => Response | Promise<Response>,
): Handler
export function withEvotorProxy(
  proxy: EvotorProxy | EvotorProxyOptions,
  handler: (c: never) => Response | Promise<Response>,
): Handler {
  if (typeof handler !== 'function') throw new TypeError('withEvotorProxy: handler must be a function')
  const resolved = resolveEvotorProxy(proxy)
  const route = handler as Route
  function run(
    c: Context<EvotorEnv<EvotorProxyHeader>>,
    incoming: NodeIncoming | undefined,
    a: ProxyAdmission,
  ): Response | Promise<Response> {
    if (a.answer !== undefined) return toResponse(c.req.raw, a.answer)
    // The proxy answered 400 already when a required header was missing.
    c.set('evotor', a.context as EvotorProxyContext<EvotorProxyHeader>)
    storeHonoContext(c, incoming, a.context)
    if (resolved.proxyVersion === 1) return envelopedResponse(resolved, c.req.raw, () => route(c))
    let answer: Response | Promise<Response>
    try {
      answer = route(c)
    } catch (error) {
      return answerError(resolved, c, error)
    }
    // A synchronous route's answer goes back as it is: no promise, no async frame.
    return answer instanceof Promise ? answer.catch((error) => answerError(resolved, c, error)) : answer
  }
  return function evotorProxiedRoute(c: Context) {
    const incoming = honoIncoming(c)
    const admission = admitHono(resolved, c, incoming)
    const typed = c as Context<EvotorEnv<EvotorProxyHeader>>
    return admission instanceof Promise
      ? admission.then((a) => run(typed, incoming, a))
      : run(typed, incoming, admission)
  }
}

/**
 * {@link withEvotorProxy} typed for the app's `Env` (as Hono's `createFactory<Env>()`): TypeScript
 * cannot take the app's `Env` from `app.get(…)`, so it is named once here.
 * @returns `withEvotorProxy`, whose routes see the app's `c.env` and `c.var` beside `c.var.evotor`.
 * @example
 * ```ts
 * type AppEnv = { Bindings: { DB: D1Database }; Variables: { requestId: string } }
 * const app = new Hono<AppEnv>()
 * const evotorRoute = withEvotorProxyFor<AppEnv>()
 * app.get('/terminal/stock', evotorRoute({ userTokens }, (c) => c.json(stockOf(c.env.DB, c.var.evotor.storeUuid))))
 * ```
 */
export function withEvotorProxyFor<E extends Env>(): WithEvotorProxy<E> {
  return withEvotorProxy as unknown as WithEvotorProxy<E>
}
