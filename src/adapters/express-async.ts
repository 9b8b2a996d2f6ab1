/**
 * Express 4 ignores what a route returns, so a rejected promise of an `async` route is an unhandled
 * rejection that ends the process (Node >= 15). Express 5 passes it to `next(err)` itself. For the
 * requests that passed `evotorProxy()`, this makes Express 4 do what Express 5 does: the first
 * proxied request swaps `handle_request` of Express 4's `Layer` for one that also sends a rejected
 * promise to `next(err)` (then `evotorErrorHandler()` answers it). Requests that did not pass the
 * proxy run Express's own code unchanged.
 */
import type { IncomingMessage } from 'node:http'
import { getEvotorContext } from '../core/evotor-context.js'

type Next = (error?: unknown) => void
type Handle = (req: IncomingMessage, res: unknown, next: Next) => unknown

/** Express 4's `Layer.prototype`: `handle_request` (Express 5's router has `handleRequest`). */
interface Express4Layer {
  handle: Handle
  handle_request(this: Express4Layer, req: IncomingMessage, res: unknown, next: Next): void
}

const PATCHED = Symbol.for('evotor-partner.express4AsyncRoutes')

type Patchable = Express4Layer & { [PATCHED]?: true }

/** The rejection as an error for `next`: Express treats a falsy `next(x)` as "no error". */
function asError(reason: unknown): unknown {
  return reason ?? new Error('evotorProxy: an async route rejected without a reason')
}

function patch(layer: Patchable): void {
  const original = layer.handle_request
  const wrapped = function handleRequest(
    this: Express4Layer,
    req: IncomingMessage,
    res: unknown,
    next: Next,
  ): void {
    const handle = this.handle
    if (handle.length > 3 || getEvotorContext(req) === undefined) {
      original.call(this, req, res, next)
      return
    }
    let result: unknown
    try {
      result = handle(req, res, next)
    } catch (error) {
      next(error)
      return
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(undefined, (reason: unknown) => next(asError(reason)))
    }
  }
  layer.handle_request = wrapped
  layer[PATCHED] = true
}

/**
 * Under Express 4, makes rejected promises of the routes behind the proxy reach `next(err)`; a no-op
 * under Express 5 (whose router does it) or when the app's router cannot be found.
 */
export function catchAsyncRoutes(req: IncomingMessage & { app?: unknown }): void {
  // Done once per app: a property read on Express's `req` is a V8 runtime lookup (see express-context.ts).
  const requestProto: unknown = Object.getPrototypeOf(req)
  if (requestProto === checked) return
  const router = (req.app as { _router?: { stack?: unknown[] } } | undefined)?._router
  const first = router?.stack?.[0]
  if (typeof first !== 'object' || first === null) return
  const proto = Object.getPrototypeOf(first) as Patchable
  checked = requestProto
  if (proto[PATCHED] === true || typeof proto.handle_request !== 'function') return
  if (proto.handle_request.length !== 3) return
  patch(proto)
}

/** The request prototype (`app.request`) of the app whose router was last looked at. */
let checked: unknown
