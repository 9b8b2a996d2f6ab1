/**
 * One user per request (design "Tenancy", protocol §4.2): every user id a body names must be the
 * user the credential speaks for. The route table says where a route's user ids are
 * (`EvotorRouteDefinition.userIds`); this is the only place that reads them.
 */
import { EvotorError } from './evotor-error.js'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The value at `path` in `node`; absent and `null` are both `undefined` (protocol §5.2: neither names a user). */
function valueAt(node: unknown, path: readonly string[]): unknown {
  let current: unknown = node
  for (const key of path) {
    current = isRecord(current) && Object.hasOwn(current, key) ? current[key] : undefined
    if (current === undefined) return undefined
  }
  return current === null ? undefined : current
}

/**
 * The one user a request acts for, or an `EvotorError` before any handler runs. The user ids are
 * where the route table says (`paths`, applied to each element when the body is an array):
 * - user token: every id the body names must equal the token's user, else 401/1002 (a token
 *   speaks for exactly one user; protocol §4.2);
 * - app credential: the ids must agree with each other, else 400/2003 at the first that differs;
 *   the user is that id (or `undefined` when the body names none as a string).
 *
 * @internal
 */
export function requestUser(
  paths: readonly (readonly string[])[],
  body: unknown,
  credential: 'app' | 'user',
  tokenUser: string | undefined,
): string | undefined {
  let first: string | undefined
  const many = Array.isArray(body)
  const count = many ? body.length : 1
  for (let i = 0; i < count; i++) {
    const node: unknown = many ? body[i] : body
    for (const path of paths) {
      const value = valueAt(node, path)
      if (value === undefined) continue
      if (credential === 'user') {
        if (value !== tokenUser) throw EvotorError.invalidUserToken()
        continue
      }
      // Values of the wrong type are left to the schema (a 2003, or `unknownEvent` on the event routes).
      if (typeof value !== 'string') continue
      if (first === undefined) first = value
      else if (value !== first) {
        const subject = (many ? `${i}.` : '') + path.join('.')
        throw EvotorError.incorrect(subject, value.slice(0, 256))
      }
    }
  }
  return credential === 'user' ? tokenUser : first
}
