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
 * The most elements an array inside a body may have (the body itself may be a longer array: it is
 * validated in chunks). Receipt lines, document positions and barcodes come in tens or hundreds;
 * validating a million-element inner array would hold the event loop for seconds (~15 µs per bad
 * element), so longer ones are refused at once.
 */
export const MAX_INNER_ARRAY = 10_000

/** What is wrong with a body's shape, if anything. */
export type BodyShapeProblem = { kind: 'depth' } | { kind: 'array'; subject: string; length: number }

/**
 * Checks nesting depth and inner array lengths without recursion, so it cannot overflow the stack
 * whatever the body.
 *
 * @internal
 */
export function bodyShapeProblem(
  value: unknown,
  maxDepth = MAX_BODY_DEPTH,
  maxInnerArray = MAX_INNER_ARRAY,
): BodyShapeProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const nodes: object[] = [value]
  const depths: number[] = [1]
  while (nodes.length > 0) {
    const node = nodes.pop() as object
    const depth = depths.pop() as number
    if (depth > maxDepth) return { kind: 'depth' }
    if (Array.isArray(node) && node !== value && node.length > maxInnerArray) {
      return { kind: 'array', subject: pathTo(value, node), length: node.length }
    }
    const children = Array.isArray(node) ? node : Object.values(node)
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        nodes.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return undefined
}

/** The `.`-joined path from `root` to `target` (only called once, for an error subject). */
function pathTo(root: object, target: object): string {
  const stack: Array<[object, string]> = [[root, '']]
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [object, string]
    for (const [key, child] of Object.entries(node)) {
      if (typeof child !== 'object' || child === null) continue
      const childPath = path === '' ? key : `${path}.${key}`
      if (child === target) return childPath
      stack.push([child, childPath])
    }
  }
  return 'body'
}
