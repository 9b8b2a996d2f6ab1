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
  const value = parseRawJsonBody(raw)
  inspectBody(value)
  return value
}

/**
 * A JSON request body (UTF-8 bytes or text) parsed, **not yet** sanitised: the caller runs
 * {@link inspectBody} on it, which drops the dangerous keys in the same walk that checks the shape.
 * Invalid UTF-8, empty or invalid JSON -> `EvotorError` 400/2001.
 *
 * @internal
 */
export function parseRawJsonBody(raw: string | Uint8Array): unknown {
  return parseJsonText(typeof raw === 'string' ? raw : decodeUtf8(raw))
}

/**
 * A JSON request body parsed as {@link parseRawJsonBody} does, and whether it may hold a string that
 * is not storable text (see {@link isStorableText}). Valid JSON from valid UTF-8 can only hold U+0000
 * or an unpaired surrogate as a `\u` escape, so text without a `\u0000` or `\uD800`–`\uDFFF` escape
 * cannot (a body given as a JS string is checked for raw surrogates too); `true` is a maybe (an
 * escaped backslash or a well-formed pair match as well), which {@link inspectBody} settles.
 *
 * @internal
 */
export function parseRawJsonBodyChecked(raw: string | Uint8Array): { value: unknown; checkText: boolean } {
  const text = typeof raw === 'string' ? raw : decodeUtf8(raw)
  const value = parseJsonText(text)
  const escapes = (text as string).indexOf('\\u') !== -1 && UNSTORABLE_ESCAPE.test(text as string)
  return { value, checkText: escapes || (typeof raw === 'string' && !isStorableText(raw)) }
}

const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/

/**
 * Whether a string can be stored as UTF-8 text everywhere: no U+0000 (PostgreSQL's `text` refuses
 * it) and no unpaired surrogate (UTF-8 cannot encode one: it would be stored as U+FFFD, and two ids
 * that differ there would become one).
 *
 * @internal
 */
export function isStorableText(text: string): boolean {
  return text.indexOf('\0') === -1 && (text as string & { isWellFormed(): boolean }).isWellFormed()
}

function parseJsonText(text: string | undefined): unknown {
  if (text === undefined) throw EvotorError.syntax('body is not valid UTF-8')
  if (text.trim() === '') throw EvotorError.syntax('body is empty')
  try {
    return JSON.parse(text)
  } catch {
    throw EvotorError.syntax('body is not valid JSON')
  }
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
export type BodyShapeProblem =
  | { kind: 'depth' }
  | { kind: 'array'; subject: string; length: number }
  | { kind: 'text'; subject: string }

const isOwn = Object.prototype.hasOwnProperty

/**
 * One walk over a parsed body (design "Hostile bodies"): drops the keys that could pollute
 * prototypes (`__proto__`, `constructor`, `prototype`: never Evotor fields) from every object, and
 * returns the first shape problem, if any: nesting deeper than `maxDepth`, or an array inside the
 * body longer than `maxInnerArray` (the body itself may be a longer array: it is validated in
 * chunks), with the path to it; with `checkText`, also a key or string that is not storable text
 * ({@link isStorableText}), with its path. Without recursion, so it cannot overflow the stack whatever the
 * body. The whole body is walked even after a problem is found, so that nothing unsanitised is left.
 * One walk instead of two, and no substring searches over the body's text: `for…in` over
 * `JSON.parse`'s objects reads their own keys and values by the enumeration cache.
 *
 * @internal
 */
export function inspectBody(
  value: unknown,
  maxDepth = MAX_BODY_DEPTH,
  maxInnerArray = MAX_INNER_ARRAY,
  checkText = false,
): BodyShapeProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const nodes: object[] = [value]
  const depths: number[] = [1]
  let problem: BodyShapeProblem | undefined
  let longArray: object | undefined
  // Where the first unstorable text is: its object (or array) and key (or index).
  let textAt: [object, string] | undefined
  // Whether `Object.prototype` has an enumerable key, read at the first plain object.
  let inherited: boolean | undefined
  while (nodes.length > 0) {
    const node = nodes.pop() as object
    const depth = depths.pop() as number
    if (problem === undefined && depth > maxDepth) problem = { kind: 'depth' }
    if (Array.isArray(node)) {
      if (problem === undefined && node !== value && node.length > maxInnerArray) {
        problem = { kind: 'array', subject: '', length: node.length }
        longArray = node
      }
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i]
        if (typeof child === 'object' && child !== null) {
          nodes.push(child)
          depths.push(depth + 1)
        } else if (checkText && textAt === undefined && typeof child === 'string' && !isStorableText(child)) {
          textAt = [node, String(i)]
        }
      }
      continue
    }
    const record = node as Record<string, unknown>
    // Own keys only, as `Object.keys`: an enumerable property some code put on a prototype is not
    // the body's (following it could even loop: `Object.prototype.x = {}` reaches itself). `for…in`
    // over a plain object (what `JSON.parse` makes) meets no other key unless `Object.prototype` has
    // an enumerable one, so the per-key check runs only then, or for objects of other prototypes.
    const proto: unknown = Object.getPrototypeOf(record)
    if (proto === Object.prototype && inherited === undefined) inherited = hasEnumerable(proto)
    const ownOnly = proto !== null && (proto !== Object.prototype || inherited === true)
    for (const key in record) {
      if (ownOnly && !isOwn.call(record, key)) continue
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        delete record[key]
        continue
      }
      const child = record[key]
      if (typeof child === 'object' && child !== null) {
        nodes.push(child)
        depths.push(depth + 1)
      } else if (checkText && textAt === undefined && typeof child === 'string' && !isStorableText(child)) {
        textAt = [node, key]
      }
      if (checkText && textAt === undefined && !isStorableText(key)) textAt = [node, '']
    }
  }
  if (problem?.kind === 'array') problem.subject = pathTo(value, longArray as object)
  if (problem === undefined && textAt !== undefined) {
    // A bad key is named by the path of its object (the key itself is not storable).
    const [holder, key] = textAt
    const base = holder === value ? '' : pathTo(value, holder)
    problem = { kind: 'text', subject: key === '' ? base || 'body' : base === '' ? key : `${base}.${key}` }
  }
  return problem
}

/** Whether `for…in` over an object of this prototype meets keys that are not the object's own. */
function hasEnumerable(proto: object): boolean {
  for (const _ in proto) return true
  return false
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
