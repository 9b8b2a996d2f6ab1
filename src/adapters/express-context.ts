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

/** Whether `proto` is an Express app's `app.request` carrying (or now given) the accessor. */
function accessorOn(proto: object | null): boolean {
  if (proto === patched) return true
  if (proto === null || !Object.hasOwn(proto, 'app')) return false
  const own = Object.getOwnPropertyDescriptor(proto, 'evotor')
  if (own === undefined) Object.defineProperty(proto, 'evotor', accessor)
  else if (own.get !== accessor.get) return false
  patched = proto
  return true
}

/** Gives `req` its verified context: `req.evotor` and `getEvotorContext(req)`. */
export function attachContext(
  req: IncomingMessage & { evotor?: unknown },
  context: EvotorProxyContext,
): void {
  // (A route that assigned `req.evotor` before the proxy ran keeps seeing its own value there.)
  if (!accessorOn(Object.getPrototypeOf(req))) req.evotor = context
  setEvotorContextAside(req, context)
}
