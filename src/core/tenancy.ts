/**
 * One user per request (design "Tenancy", protocol §4.2): every user id a body names must be the
 * user the credential speaks for. The route table says where a route's user ids are
 * (`EvotorRouteDefinition.userIds`); this is the only place that reads them.
 */
import { EvotorError } from './evotor-error.js'

/** A user id found in a body: where (`0.data.userId`) and what. */
interface NamedUser {
  subject: string
  value: unknown
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function collect(
  paths: readonly (readonly string[])[],
  node: unknown,
  prefix: string,
  out: NamedUser[],
): void {
  for (const path of paths) {
    let current: unknown = node
    for (const key of path) {
      current = isRecord(current) && Object.hasOwn(current, key) ? current[key] : undefined
      if (current === undefined) break
    }
    // Absent and null are the same for Evotor (protocol §5.2): neither names a user.
    if (current !== undefined && current !== null)
      out.push({ subject: prefix + path.join('.'), value: current })
  }
}

/**
 * Every user id the raw body names at `paths` (applied to each element when the body is an array).
 *
 * @internal
 */
export function namedUsers(paths: readonly (readonly string[])[], body: unknown): NamedUser[] {
  const out: NamedUser[] = []
  if (paths.length === 0) return out
  if (Array.isArray(body)) {
    for (let i = 0; i < body.length; i++) collect(paths, body[i], `${i}.`, out)
  } else {
    collect(paths, body, '', out)
  }
  return out
}

/**
 * The one user a request acts for, or an `EvotorError` before any handler runs:
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
  const named = namedUsers(paths, body)
  if (credential === 'user') {
    for (const { value } of named) if (value !== tokenUser) throw EvotorError.invalidUserToken()
    return tokenUser
  }
  // Values of the wrong type are left to the schema (a 2003, or `unknownEvent` on the event routes).
  let first: NamedUser | undefined
  for (const user of named) {
    if (typeof user.value !== 'string') continue
    if (first === undefined) first = user
    else if (user.value !== first.value) throw EvotorError.incorrect(user.subject, user.value.slice(0, 256))
  }
  return first?.value as string | undefined
}
