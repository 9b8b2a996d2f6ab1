import { EvotorError } from './evotor-error.js'

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
// A literal key, or any \u escape (which can spell `__proto__` past the literal test).
const DANGEROUS_KEY = /"(?:__proto__|constructor|prototype)"\s*:|\\u/

function stripDangerousKeys(value: unknown): void {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null) continue
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item)
      continue
    }
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        delete record[key]
      } else {
        stack.push(record[key])
      }
    }
  }
}

/**
 * Parses a JSON request body (UTF-8 bytes or text). Keys that could pollute prototypes
 * (`__proto__`, `constructor`, `prototype`) are dropped; they are never Evotor fields.
 * Invalid UTF-8, empty or invalid JSON -> `EvotorError` 400/2001.
 *
 * @example
 * ```ts
 * const body = parseJsonBody(rawBytes) // throws EvotorError 2001 on bad JSON
 * ```
 */
export function parseJsonBody(raw: string | Uint8Array): unknown {
  let text: string
  try {
    text = typeof raw === 'string' ? raw : decoder.decode(raw)
  } catch {
    throw EvotorError.syntax('body is not valid UTF-8')
  }
  if (text.trim() === '') throw EvotorError.syntax('body is empty')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw EvotorError.syntax('body is not valid JSON')
  }
  // Cheap test first: the walk only runs for the rare body that names such a key.
  if (DANGEROUS_KEY.test(text)) stripDangerousKeys(value)
  return value
}

/**
 * Drops prototype-polluting keys from a value a framework's body parser already produced.
 *
 * @internal
 *
 * @example
 * ```ts
 * const body = sanitizeParsedBody(ctx.request.body) // the same object, `__proto__` & co. removed
 * ```
 */
export function sanitizeParsedBody(value: unknown): unknown {
  stripDangerousKeys(value)
  return value
}

/**
 * How deep a body may nest (design "Hostile bodies"). Evotor's deepest documented payload (a v1
 * document) is 6 levels; `extras` carry app data of unknown shape, so this leaves ten times that.
 * Deeper bodies are refused before any recursive code (schemas, hashing, logging) can overflow
 * the stack, which happens at a few thousand levels.
 */
export const MAX_BODY_DEPTH = 64

/**
 * Whether `value` nests objects/arrays deeper than `limit` levels. Iterative, so it cannot
 * overflow the stack whatever the depth.
 *
 * @internal
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  const nodes: object[] = [value]
  const depths: number[] = [1]
  while (nodes.length > 0) {
    const node = nodes.pop() as object
    const depth = depths.pop() as number
    if (depth > limit) return true
    const children = Array.isArray(node) ? node : Object.values(node)
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        nodes.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}
