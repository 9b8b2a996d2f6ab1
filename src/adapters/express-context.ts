/**
 * Where Express's `req.evotor` lives. Express swaps the prototype of every request (`app.request`),
 * and V8 then gives each request a map of its own: a property added to `req` costs a map migration
 * in the runtime (about 17,000 instructions per request measured with callgrind, 3% of a bare
 * Express request). So the context is kept beside the request (the library's WeakMap, where
 * `getEvotorContext(req)` finds it), and `evotor` is an accessor defined once on the app's request
 * prototype. A request whose prototype is not an Express app's (or that already has an `evotor`
 * of its own making) gets a plain property instead.
 */
import type { IncomingMessage } from 'node:http'
import { evotorContextAside, setEvotorContextAside } from '../core/evotor-context.js'
import type { EvotorProxyContext } from '../core/proxy.js'

const accessor: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: object) {
    return evotorContextAside(this)
  },
  set(this: object, value: unknown) {
    // A route that assigns `req.evotor` itself gets a plain property, as before.
    Object.defineProperty(this, 'evotor', { value, writable: true, enumerable: true, configurable: true })
  },
}

let patched: object | undefined

/**
 * Whether `proto` is an Express app's `app.request` and the accessor is in its chain. It goes on the
 * top-most app's `request`: a mounted app's `request` inherits from its parent's, and Express puts
 * the parent's back when a request leaves the mounted app, where `req.evotor` must still read. A
 * prototype that cannot take it (frozen, or with an `evotor` of its own) gets a plain property.
 */
function accessorOn(proto: object | null): boolean {
  if (proto === patched) return true
  if (proto === null || !Object.hasOwn(proto, 'app')) return false
  let top: object = proto
  for (
    let up = Object.getPrototypeOf(top);
    up !== null && Object.hasOwn(up, 'app');
    up = Object.getPrototypeOf(up)
  ) {
    top = up
  }
  for (let p: object | null = proto; p !== null; p = Object.getPrototypeOf(p)) {
    const own = Object.getOwnPropertyDescriptor(p, 'evotor')
    if (own !== undefined && own.get !== accessor.get) return false
    if (p === top) break
  }
  if (Object.getOwnPropertyDescriptor(top, 'evotor') === undefined) {
    if (!Object.isExtensible(top)) return false
    Object.defineProperty(top, 'evotor', accessor)
  }
  patched = proto
  return true
}

/** Gives `req` its verified context: `req.evotor` and `getEvotorContext(req)`. */
export function attachContext(
  req: IncomingMessage & { evotor?: unknown },
  context: EvotorProxyContext,
): void {
  // An own `evotor` (set before the proxy ran, or on a request the accessor cannot reach) is written
  // over, as it always was: `req.evotor` is the verified context behind the proxy.
  if (!accessorOn(Object.getPrototypeOf(req)) || Object.hasOwn(req, 'evotor')) req.evotor = context
  setEvotorContextAside(req, context)
}
