import { Buffer, isUtf8 } from 'node:buffer'
import { EvotorError } from './evotor-error.js'

/**
 * UTF-8 bytes as text, as a fatal `TextDecoder` reads them (a leading BOM dropped), or `undefined`
 * when they are not valid UTF-8. `isUtf8` and `Buffer#toString` are native and about twice as fast
 * as `TextDecoder#decode` on a request body.
 */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const text = buffer.toString('utf8')
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}
// A literal key, or any \u escape (which can spell `__proto__` past the literal test).
const DANGEROUS_KEY = /"(?:__proto__|constructor|prototype)"\s*:|\\u/

/** Whether `text` holds a substring that {@link DANGEROUS_KEY} needs to match. */
function mayBeDangerous(text: string): boolean {
  return (
    text.includes('\\u') ||
    text.includes('__proto__') ||
    text.includes('constructor') ||
    text.includes('prototype')
  )
}

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
  const text = typeof raw === 'string' ? raw : decodeUtf8(raw)
  if (text === undefined) throw EvotorError.syntax('body is not valid UTF-8')
  if (text.trim() === '') throw EvotorError.syntax('body is empty')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw EvotorError.syntax('body is not valid JSON')
  }
  // Cheap tests first: the walk only runs for the rare body that names such a key. The substring
  // searches are native and much faster than the regexp, which needs one of them to match anyway.
  if (mayBeDangerous(text) && DANGEROUS_KEY.test(text)) stripDangerousKeys(value)
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
