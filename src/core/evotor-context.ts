import { EvotorError } from './evotor-error.js'
import type { EvotorProxyContext } from './proxy.js'
import { isVerifiedContext } from './verified-context.js'

const STORE_KEY = Symbol.for('evotor-partner.evotorContext')
const FALLBACK_KEY = Symbol.for('evotor-partner.evotorContextFallback')

type Holder = { [STORE_KEY]?: EvotorProxyContext }

// A registered symbol, so the ESM and the CJS build (or two bundled copies) see the contexts the
// other one stored. A symbol property on the request is cheaper than a WeakMap entry (no ephemeron
// for the GC) and, being a symbol, stays out of Object.keys, for-in and JSON; frozen or sealed
// keys fall back to one WeakMap per process.
function fallback(): WeakMap<object, EvotorProxyContext> {
  const holder = globalThis as { [FALLBACK_KEY]?: WeakMap<object, EvotorProxyContext> }
  let map = holder[FALLBACK_KEY]
  if (map === undefined) {
    map = new WeakMap()
    holder[FALLBACK_KEY] = map
  }
  return map
}

/**
 * The `IncomingMessage` inside a lightweight `Request` of `@hono/node-server` (kept under a symbol
 * described `incomingKey`), where the Hono adapters store the context on Node: they do not ask Hono
 * for its `Request` (`c.req` builds a `HonoRequest` on first read). Looked for on a miss only.
 */
function nodeIncomingOf(key: object): object | undefined {
  for (const symbol of Object.getOwnPropertySymbols(key)) {
    if (symbol.description !== 'incomingKey') continue
    const incoming = (key as Record<symbol, unknown>)[symbol]
    return typeof incoming === 'object' && incoming !== null ? incoming : undefined
  }
  return undefined
}

function lookup(key: object): EvotorProxyContext | undefined {
  if (typeof key !== 'object' && typeof key !== 'function') return undefined
  if (key === null) return undefined
  const stored = storedFor(key)
  if (stored !== undefined) return stored
  const incoming = nodeIncomingOf(key)
  return incoming === undefined ? undefined : storedFor(incoming)
}

function storedFor(key: object): EvotorProxyContext | undefined {
  const own = Object.hasOwn(key, STORE_KEY) ? (key as Holder)[STORE_KEY] : undefined
  // A key frozen after a context was stored keeps the newer one in the WeakMap; the Express proxy
  // keeps its contexts there too (see setEvotorContextAside).
  const stored = Object.isExtensible(key) ? (own ?? fallback().get(key)) : (fallback().get(key) ?? own)
  if (stored !== undefined) return stored
  // An own `evotor` holding a context the proxy verified (see verified-context.ts).
  const evotor = Object.hasOwn(key, 'evotor') ? (key as { evotor?: unknown }).evotor : undefined
  return isVerifiedContext(evotor) ? (evotor as unknown as EvotorProxyContext) : undefined
}

/**
 * Stores the context in the WeakMap only, adding no property to `key` (Express's request, where an
 * added property costs a V8 map migration; see adapters/express-context.ts).
 * @internal
 */
export function setEvotorContextAside(key: object, context: EvotorProxyContext): void {
  // (Only the Express proxy stores this way, and nothing stores its requests' contexts the other way.)
  fallback().set(key, context)
}

/**
 * The context {@link setEvotorContextAside} stored for `key` (the WeakMap alone).
 * @internal
 */
export function evotorContextAside(key: object): EvotorProxyContext | undefined {
  return fallback().get(key)
}

/**
 * Remembers the verified proxy context of a request. The adapters call it with the Node
 * `IncomingMessage` (Koa `ctx.req`, Express `req`) or the Fetch `Request`; entries go away with
 * the request object.
 *
 * @example
 * ```ts
 * const evotor = await proxy.authenticate(request.headers)
 * setEvotorContext(request, evotor)
 * ```
 */
export function setEvotorContext(key: object, context: EvotorProxyContext): void {
  if (Object.isExtensible(key)) {
    // A plain assignment: Object.defineProperty (non-enumerable) measured slower than the WeakMap.
    ;(key as Holder)[STORE_KEY] = context
  } else {
    fallback().set(key, context)
  }
}

/**
 * The verified proxy context stored for a request, or `undefined` when the request did not pass
 * the proxy middleware.
 *
 * @example
 * ```ts
 * const evotor = getEvotorContext(req) // Express `req`, Koa `ctx.req` or a Fetch `Request`
 * if (evotor) console.log(evotor.userId, evotor.storeUuid)
 * ```
 */
export function getEvotorContext(key: object): EvotorProxyContext | undefined {
  return lookup(key)
}

/**
 * The verified proxy context stored for a request; throws `EvotorError` 401/1002 when there is none
 * (the route was reached without the proxy middleware, so no user token was verified).
 *
 * @example
 * ```ts
 * app.get('/api/receipts', (req, res) => {
 *   const { userId, storeUuid } = requireEvotorContext(req)
 *   res.json(listReceipts(userId, storeUuid))
 * })
 * ```
 */
export function requireEvotorContext(key: object): EvotorProxyContext {
  const context = lookup(key)
  if (context === undefined) throw EvotorError.invalidUserToken()
  return context
}

/**
 * What {@link createEvotorTrpcContext} returns: the tRPC context of a proxied terminal request.
 *
 * @example
 * ```ts
 * import { initTRPC } from '@trpc/server'
 * import type { EvotorTrpcContext } from 'evotor-partner'
 * const t = initTRPC.context<EvotorTrpcContext>().create()
 * ```
 */
export interface EvotorTrpcContext {
  evotor: EvotorProxyContext
}

/**
 * A tRPC `createContext` for routes behind the proxy middleware: tRPC's Express, Fetch and
 * Node adapters pass `{ req }` (the same request object the proxy middleware saw), and the
 * context carries the verified `evotor` data. Throws 401/1002 when the request was not verified.
 *
 * @example
 * ```ts
 * import { createExpressMiddleware } from '@trpc/server/adapters/express'
 * import { evotorProxy } from 'evotor-partner/express'
 * import { createEvotorTrpcContext } from 'evotor-partner'
 *
 * app.use('/trpc', evotorProxy({ userTokens: tokens }), createExpressMiddleware({
 *   router: appRouter,
 *   createContext: createEvotorTrpcContext,
 * }))
 * ```
 */
export function createEvotorTrpcContext({ req }: { req: object }): EvotorTrpcContext {
  return { evotor: requireEvotorContext(req) }
}
