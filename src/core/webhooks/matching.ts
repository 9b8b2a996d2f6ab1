/** Which route a request path names: default paths under `basePath`, overrides, legacy aliases. */
import { EVOTOR_ROUTES, ROUTE_NAMES, type RouteName } from '../../protocol/routes.js'
import type { EvotorWebhooksOptions } from './types.js'

/** A route a path matched, with the path's `{storeUuid}` (decoded when it decodes). */
export interface RouteMatch {
  readonly name: RouteName
  readonly storeUuid: string | undefined
}

/** Every path served, and the lookup from a path to the routes behind it. */
export interface RouteMatcher {
  readonly routes: ReadonlyArray<{ name: RouteName; method: string; paths: readonly string[] }>
  /** The routes (any method) that serve `path`; empty when none does. Shared: never modify it. */
  find(path: string): readonly RouteMatch[]
}

interface PatternRoute {
  readonly name: RouteName
  readonly pattern: RegExp
}

/** `path` without the query string and without a trailing slash. */
export function normalisePath(path: string): string {
  const noQuery = path.split('?', 1)[0] ?? ''
  return noQuery.length > 1 && noQuery.endsWith('/') ? noQuery.slice(0, -1) : noQuery
}

function pathPattern(clean: string): RegExp {
  const source = clean
    .split('/')
    .map((part) =>
      part.startsWith(':') ? '(?<storeUuid>[^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return new RegExp(`^${source}$`)
}

/** The paths of route `name`: the override or `basePath` + default, then its legacy aliases if asked. */
function pathsOf(name: RouteName, options: EvotorWebhooksOptions, basePath: string): string[] {
  const legacy = options.legacyPaths ?? false
  const def = EVOTOR_ROUTES[name]
  const paths = [options.paths?.[name] ?? `${basePath}${def.path}`]
  const wantsLegacy = legacy === true || (Array.isArray(legacy) && legacy.includes(name))
  const aliases: readonly string[] = ('legacyPaths' in def ? def.legacyPaths : undefined) ?? []
  if (wantsLegacy) for (const alias of aliases) paths.push(`${basePath}${alias}`)
  return paths
}

function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment // kept raw: it is validated as an opaque id later
  }
}

/** Compiles every route's paths: exact paths in a map, the `:storeUuid` ones as patterns. */
export function createRouteMatcher(options: EvotorWebhooksOptions): RouteMatcher {
  const basePath = options.basePath === undefined ? '' : normalisePath(options.basePath).replace(/\/$/, '')
  const exact = new Map<string, RouteName[]>()
  const patterns: PatternRoute[] = []
  const routes: Array<{ name: RouteName; method: string; paths: string[] }> = []
  for (const name of ROUTE_NAMES) {
    const paths = pathsOf(name, options, basePath)
    for (const path of paths) {
      const clean = normalisePath(path)
      if (clean.includes(':')) patterns.push({ name, pattern: pathPattern(clean) })
      else exact.set(clean, [...(exact.get(clean) ?? []), name])
    }
    routes.push({ name, method: EVOTOR_ROUTES[name].method, paths })
  }
  // The adapter asks whether a path is a webhook's, then the dispatcher which route it is: the same
  // path twice in a row, so the last answer is kept (`find` is a pure function of the path).
  let lastPath: string | undefined
  let lastFound: readonly RouteMatch[] = []
  return {
    routes,
    find(path) {
      if (path === lastPath) return lastFound
      const clean = normalisePath(path)
      const found: RouteMatch[] = []
      for (const name of exact.get(clean) ?? []) found.push({ name, storeUuid: undefined })
      for (const { name, pattern } of patterns) {
        const match = pattern.exec(clean)
        if (match !== null) found.push({ name, storeUuid: decodeSegment(match.groups?.storeUuid) })
      }
      lastPath = path
      lastFound = found
      return found
    },
  }
}
