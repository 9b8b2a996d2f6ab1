/**
 * Java `java.util.regex.Pattern` syntax, as the developer portal reads an allowed-URL pattern
 * (evotor-cloud-api.md §3, protocol §2.3), translated to an equivalent JavaScript RegExp.
 *
 * The translation is faithful or refused: a construct whose Java meaning cannot be reproduced
 * exactly is reported (`unsupported`), a pattern Java itself rejects is reported (`invalid`,
 * with Java's own message), and nothing is guessed. Differences that are valid in both
 * languages but mean something else are reported as notes next to a working RegExp.
 */

/**
 * What a note or an error about a pattern means.
 *
 * - `invalid`: Java rejects the pattern (`PatternSyntaxException`); the portal refuses it.
 * - `unsupported`: Java accepts it, but this checker cannot reproduce its meaning in JavaScript.
 * - `differs`: valid in both languages, but matches something else in JavaScript.
 * - `java-only`: Java-only syntax, translated here; a JavaScript copy of the pattern would fail.
 * - `artefact`: the pattern looks damaged by copying from the documentation page.
 *
 * @example
 * ```ts
 * import { compileAllowedUrlPattern } from 'evotor-partner'
 * const compiled = compileAllowedUrlPattern('https://a\\.b/{id}')
 * const kind: AllowedUrlPatternIssueKind | undefined = compiled.ok ? undefined : compiled.error.kind // 'invalid'
 * ```
 */
export type AllowedUrlPatternIssueKind = 'invalid' | 'unsupported' | 'differs' | 'java-only' | 'artefact'

/**
 * One finding about a pattern, with the position (UTF-16 index into the pattern) it refers to.
 *
 * @example
 * ```ts
 * import { type AllowedUrlPatternIssue, compileAllowedUrlPattern } from 'evotor-partner'
 * const notes: AllowedUrlPatternIssue[] = compileAllowedUrlPattern('https://a\\.b/\\w+').notes
 * // [{ kind: 'differs', index: 13, message: '\\w is ASCII-only in Java ...' }]
 * ```
 */
export interface AllowedUrlPatternIssue {
  kind: AllowedUrlPatternIssueKind
  /** UTF-16 index into the pattern. */
  index: number
  message: string
}

/**
 * A portal pattern compiled for whole-URL matching, or why it could not be.
 *
 * @example
 * ```ts
 * import { type CompiledAllowedUrlPattern, compileAllowedUrlPattern } from 'evotor-partner'
 * const compiled: CompiledAllowedUrlPattern = compileAllowedUrlPattern('https://a\\.b/.*')
 * if (compiled.ok) compiled.regexp.test('https://a.b/x') // true
 * ```
 */
export type CompiledAllowedUrlPattern =
  | {
      ok: true
      /** The pattern as entered on the portal. */
      pattern: string
      /** Anchored at both ends, flag `u`: `regexp.test(url)` is Java's `matcher(url).matches()`. */
      regexp: RegExp
      notes: AllowedUrlPatternIssue[]
    }
  | {
      ok: false
      pattern: string
      /** `invalid` (the portal refuses the pattern) or `unsupported` (the checker cannot answer). */
      error: AllowedUrlPatternIssue & { kind: 'invalid' | 'unsupported' }
      notes: AllowedUrlPatternIssue[]
    }

type Node =
  | { t: 'alt'; alts: Node[][] }
  | { t: 'lit'; cp: number }
  | { t: 'raw'; src: string; atom: boolean }
  | { t: 'group'; kind: 'plain' | 'ahead' | 'nahead' | 'atomic'; body: Node }
  | { t: 'quant'; body: Node; min: number; max: number; mode: 'greedy' | 'lazy' | 'possessive' }

class PatternIssue extends Error {
  constructor(
    readonly kind: 'invalid' | 'unsupported',
    readonly at: number,
    message: string,
  ) {
    super(message)
  }
}

// Java's line terminators without UNIX_LINES: `.` excludes them, `$` may stop before the last one.
const DOT = '[^\\n\\r\\u0085\\u2028\\u2029]'
const END_OR_FINAL_TERMINATOR = '(?=$|\\r\\n$|[\\r\\u0085\\u2028\\u2029]$|(?<!\\r)\\n$)'
const JAVA_SPACE = ' \\t\\n\\x0B\\f\\r'
const H_SPACE = ' \\t\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000'
const V_SPACE = '\\n\\x0B\\f\\r\\x85\\u2028\\u2029'

/** Java's POSIX classes are US-ASCII unless UNICODE_CHARACTER_CLASS (the portal sets no flags). */
const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: JAVA_SPACE,
}

const CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Co Cs Cn'.split(
    ' ',
  ),
)

interface Parser {
  cps: number[]
  /** UTF-16 offset of each code point, plus the length at the end. */
  offsets: number[]
  pos: number
  notes: AllowedUrlPatternIssue[]
}

const ch = (p: Parser, ahead = 0): string | undefined => {
  const cp = p.cps[p.pos + ahead]
  return cp === undefined ? undefined : String.fromCodePoint(cp)
}
const at = (p: Parser, pos = p.pos): number => p.offsets[pos] ?? p.offsets[p.offsets.length - 1] ?? 0
const invalid = (p: Parser, pos: number, javaMessage: string): PatternIssue =>
  new PatternIssue('invalid', at(p, pos), `Java rejects this pattern (${javaMessage}): the portal refuses it`)
const unsupported = (p: Parser, pos: number, what: string): PatternIssue =>
  new PatternIssue(
    'unsupported',
    at(p, pos),
    `${what}: the portal (Java) accepts it, but it has no faithful JavaScript translation, so this checker cannot say what the portal matches`,
  )
const note = (p: Parser, kind: AllowedUrlPatternIssueKind, pos: number, message: string): void => {
  p.notes.push({ kind, index: at(p, pos), message })
}

function parseAlternation(p: Parser): Node {
  const alts: Node[][] = [parseSequence(p)]
  while (ch(p) === '|') {
    p.pos++
    alts.push(parseSequence(p))
  }
  return { t: 'alt', alts }
}

function parseSequence(p: Parser): Node[] {
  const seq: Node[] = []
  for (;;) {
    const c = ch(p)
    if (c === undefined || c === '|' || c === ')') return seq
    if (c === '*' || c === '+' || c === '?') throw invalid(p, p.pos, `Dangling meta character '${c}'`)
    if (c === '{') throw invalid(p, p.pos, 'Illegal repetition')
    if (c === '\\' && ch(p, 1) === 'Q') {
      seq.push(...parseQuote(p))
      continue
    }
    const atom = parseAtom(p)
    seq.push(parseQuantifier(p, atom))
  }
}

function parseQuote(p: Parser): Node[] {
  note(
    p,
    'java-only',
    p.pos,
    '\\Q…\\E quoting is Java-only: a JavaScript copy of this pattern would not work',
  )
  p.pos += 2
  const out: Node[] = []
  while (p.pos < p.cps.length && !(ch(p) === '\\' && ch(p, 1) === 'E')) {
    const lit: Node = { t: 'lit', cp: p.cps[p.pos++]! }
    const next = ch(p)
    // A quantifier right after \E applies to the last quoted character, as in Java.
    if (p.pos < p.cps.length && !(next === '\\' && ch(p, 1) === 'E')) out.push(lit)
    else {
      if (next === '\\') p.pos += 2
      out.push(parseQuantifier(p, lit))
      return out
    }
  }
  if (p.pos < p.cps.length) p.pos += 2
  return out
}

function parseAtom(p: Parser): Node {
  const c = ch(p)!
  if (c === '(') return parseGroup(p)
  if (c === '[') return { t: 'raw', src: parseClass(p), atom: true }
  p.pos++
  if (c === '.') return { t: 'raw', src: DOT, atom: true }
  if (c === '^') return { t: 'raw', src: '^', atom: false }
  if (c === '$') {
    note(
      p,
      'differs',
      p.pos - 1,
      '$ also matches before a final line terminator in Java (JavaScript: only at the very end); with the whole-URL match this only matters if the URL ends with a newline',
    )
    return { t: 'raw', src: END_OR_FINAL_TERMINATOR, atom: false }
  }
  if (c === '\\') return parseEscape(p, p.pos - 1)
  return { t: 'lit', cp: c.codePointAt(0)! }
}

function parseGroup(p: Parser): Node {
  const open = p.pos
  p.pos++
  let kind: 'plain' | 'ahead' | 'nahead' | 'atomic' = 'plain'
  if (ch(p) === '?') {
    const c = ch(p, 1)
    let skip = 2
    if (c === '=') kind = 'ahead'
    else if (c === '!') kind = 'nahead'
    else if (c === '>') {
      kind = 'atomic'
      note(p, 'java-only', open, 'an atomic group (?>…) is Java-only (translated with a lookahead)')
    } else if (c === '<' && (ch(p, 2) === '=' || ch(p, 2) === '!')) {
      throw unsupported(p, open, 'a lookbehind (?<=…) / (?<!…)')
    } else if (c === '<') {
      // A named group: the name is only for backreferences, which are not translated.
      let end = p.pos + 2
      while (/[a-zA-Z0-9]/.test(ch(p, end - p.pos) ?? '')) end++
      if (!/[a-zA-Z]/.test(ch(p, 2) ?? '')) {
        throw invalid(p, p.pos + 2, 'capturing group name does not start with a Latin letter')
      }
      if (ch(p, end - p.pos) !== '>') throw invalid(p, end, "named capturing group is missing trailing '>'")
      skip = end - p.pos + 1
    } else if (c !== undefined && /[idmsuxU-]/.test(c)) {
      throw unsupported(
        p,
        open,
        'an inline flag such as (?i) (Java-only; (?i) would make the portal match ASCII letters in any case)',
      )
    } else if (c !== ':') throw invalid(p, p.pos + 1, 'Unknown inline modifier')
    p.pos += skip
  }
  const body = parseAlternation(p)
  if (ch(p) !== ')') throw invalid(p, p.pos, 'Unclosed group')
  p.pos++
  return { t: 'group', kind, body }
}

function parseQuantifier(p: Parser, atom: Node): Node {
  let node = atom
  let curly = false
  for (;;) {
    const c = ch(p)
    let min: number
    let max: number
    const start = p.pos
    if (c === '*' || c === '+' || c === '?') {
      if (node !== atom) {
        if (curly) throw unsupported(p, start, 'a quantifier after a {n,m} quantifier')
        throw invalid(p, start, `Dangling meta character '${c}'`)
      }
      min = c === '+' ? 1 : 0
      max = c === '?' ? 1 : Number.POSITIVE_INFINITY
      p.pos++
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...p.cps.slice(p.pos, p.pos + 40)))
      if (m === null) throw invalid(p, p.pos, 'Illegal repetition')
      if (node !== atom) throw unsupported(p, start, 'a {n,m} quantifier after another quantifier')
      min = Number(m[1])
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3])
      if (min > max) throw invalid(p, p.pos + m[0].length - 1, 'Illegal repetition range')
      if (max !== Number.POSITIVE_INFINITY && max > 65_535) {
        throw unsupported(p, start, 'a repetition count above 65535')
      }
      p.pos += m[0].length
      curly = true
    } else return node
    let mode: 'greedy' | 'lazy' | 'possessive' = 'greedy'
    if (ch(p) === '?') {
      mode = 'lazy'
      p.pos++
    } else if (ch(p) === '+') {
      mode = 'possessive'
      note(
        p,
        'java-only',
        start,
        'a possessive quantifier (*+, ++, ?+) is Java-only (translated with a lookahead)',
      )
      p.pos++
    }
    node = { t: 'quant', body: node, min, max, mode }
  }
}

function hexCodePoint(p: Parser, start: number, hex: string | undefined, javaMessage: string): number {
  if (hex === undefined || !/^[0-9a-fA-F]+$/.test(hex)) throw invalid(p, start, javaMessage)
  const cp = Number.parseInt(hex, 16)
  if (cp > 0x10ffff) throw invalid(p, start, 'Hexadecimal codepoint is too big')
  return cp
}

/** One escape after `\` (p.pos is just past the backslash). Inside a class, `inClass` is true. */
function parseEscapeValue(
  p: Parser,
  slash: number,
  inClass: boolean,
): number | { src: string; inner: string } {
  const c = ch(p)
  if (c === undefined) throw invalid(p, slash + 1, 'Unexpected internal error')
  p.pos++
  const take = (n: number): string => {
    const s = String.fromCodePoint(...p.cps.slice(p.pos, p.pos + n))
    p.pos += n
    return s
  }
  switch (c) {
    case 't':
      return 9
    case 'n':
      return 10
    case 'r':
      return 13
    case 'f':
      return 12
    case 'a':
      return 7
    case 'e':
      return 27
    case 'c': {
      const x = p.cps[p.pos]
      if (x === undefined) throw invalid(p, p.pos, 'Illegal control escape sequence')
      p.pos++
      return x ^ 64
    }
    case 'x': {
      if (ch(p) === '{') {
        const close = p.cps.indexOf(0x7d, p.pos)
        if (close < 0) throw invalid(p, p.pos, 'Unclosed hexadecimal escape sequence')
        const hex = take(close - p.pos).slice(1)
        p.pos++
        return hexCodePoint(p, slash, hex, 'Illegal hexadecimal escape sequence')
      }
      return hexCodePoint(p, slash, take(2).padEnd(2, 'g'), 'Illegal hexadecimal escape sequence')
    }
    case 'u': {
      const unit = hexCodePoint(p, slash, take(4).padEnd(4, 'g'), 'Illegal Unicode escape sequence')
      if (unit >= 0xd800 && unit <= 0xdbff && ch(p) === '\\' && ch(p, 1) === 'u') {
        const low = Number.parseInt(String.fromCodePoint(...p.cps.slice(p.pos + 2, p.pos + 6)), 16)
        if (low >= 0xdc00 && low <= 0xdfff) {
          p.pos += 6
          return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
        }
      }
      return unit
    }
    case '0': {
      const digits = /^[0-7]{1,3}/.exec(String.fromCodePoint(...p.cps.slice(p.pos, p.pos + 3)))?.[0]
      if (digits === undefined) throw invalid(p, p.pos, 'Illegal octal escape sequence')
      const use = digits.length === 3 && digits[0]! > '3' ? digits.slice(0, 2) : digits
      p.pos += use.length
      return Number.parseInt(use, 8)
    }
    case 'd':
      return { src: '\\d', inner: '0-9' }
    case 'D':
      return { src: '\\D', inner: '\\D' }
    case 'w':
      note(
        p,
        'differs',
        slash,
        '\\w is ASCII-only in Java ([a-zA-Z_0-9]): it does not match Cyrillic or other non-ASCII letters',
      )
      return { src: '\\w', inner: '\\w' }
    case 'W':
      note(p, 'differs', slash, '\\W is ASCII-based in Java: it matches every non-ASCII letter')
      return { src: '\\W', inner: '\\W' }
    case 's':
      return { src: `[${JAVA_SPACE}]`, inner: JAVA_SPACE }
    case 'S':
      if (inClass) throw unsupported(p, slash, '\\S inside a character class')
      return { src: `[^${JAVA_SPACE}]`, inner: '' }
    case 'h':
      return { src: `[${H_SPACE}]`, inner: H_SPACE }
    case 'H':
      if (inClass) throw unsupported(p, slash, '\\H inside a character class')
      return { src: `[^${H_SPACE}]`, inner: '' }
    case 'v':
      return { src: `[${V_SPACE}]`, inner: V_SPACE }
    case 'V':
      if (inClass) throw unsupported(p, slash, '\\V inside a character class')
      return { src: `[^${V_SPACE}]`, inner: '' }
    case 'p':
    case 'P':
      return parseProperty(p, slash, c === 'P', inClass)
    default:
      break
  }
  if (/[1-9]/.test(c) || c === 'k') throw unsupported(p, slash, 'a backreference')
  if (inClass && /[bBAzZGRXNQE]/.test(c)) throw invalid(p, slash + 1, 'Illegal/unsupported escape sequence')
  if (/[a-zA-Z]/.test(c)) throw invalid(p, slash + 1, 'Illegal/unsupported escape sequence')
  return c.codePointAt(0)!
}

function parseProperty(
  p: Parser,
  slash: number,
  negated: boolean,
  inClass: boolean,
): { src: string; inner: string } {
  let name: string
  if (ch(p) === '{') {
    const close = p.cps.indexOf(0x7d, p.pos)
    if (close < 0) throw invalid(p, p.pos, 'Unclosed character family')
    name = String.fromCodePoint(...p.cps.slice(p.pos + 1, close))
    p.pos = close + 1
  } else {
    const c = ch(p)
    if (c === undefined) throw invalid(p, p.pos, 'Illegal character family')
    name = c
    p.pos++
  }
  const posix = POSIX[name] ?? (name.startsWith('Is') ? POSIX[name.slice(2)] : undefined)
  if (posix !== undefined) {
    note(
      p,
      'differs',
      slash,
      `\\p{${name}} is US-ASCII only in Java (JavaScript's \\p{…} is Unicode): it does not match Cyrillic or other non-ASCII letters`,
    )
    if (negated && inClass) throw unsupported(p, slash, `\\P{${name}} inside a character class`)
    return { src: negated ? `[^${posix}]` : `[${posix}]`, inner: posix }
  }
  const category = name.startsWith('Is') && CATEGORIES.has(name.slice(2)) ? name.slice(2) : name
  if (CATEGORIES.has(category)) {
    const src = `\\${negated ? 'P' : 'p'}{${category}}`
    return { src, inner: src }
  }
  throw unsupported(p, slash, `the property \\p{${name}}`)
}

function parseEscape(p: Parser, slash: number): Node {
  const c = ch(p)
  if (c === 'A') {
    p.pos++
    return { t: 'raw', src: '^', atom: false }
  }
  if (c === 'z') {
    p.pos++
    note(p, 'java-only', slash, '\\z is Java-only (JavaScript: $)')
    return { t: 'raw', src: '$', atom: false }
  }
  if (c === 'Z') {
    p.pos++
    note(p, 'java-only', slash, '\\Z is Java-only: the end of the URL, or before a final line terminator')
    return { t: 'raw', src: END_OR_FINAL_TERMINATOR, atom: false }
  }
  if (c === 'b' || c === 'B') {
    throw unsupported(
      p,
      slash,
      `\\${c} (a word boundary; Java 17 counts non-ASCII letters as word characters)`,
    )
  }
  if (c === 'G' || c === 'R' || c === 'X' || c === 'N') throw unsupported(p, slash, `\\${c}`)
  if (c === 'E') throw invalid(p, slash + 1, 'Illegal/unsupported escape sequence')
  const value = parseEscapeValue(p, slash, false)
  return typeof value === 'number' ? { t: 'lit', cp: value } : { t: 'raw', src: value.src, atom: true }
}

function parseClass(p: Parser): string {
  p.pos++
  let negated = false
  if (ch(p) === '^') {
    negated = true
    p.pos++
  }
  let out = ''
  let first = true
  for (;;) {
    const c = ch(p)
    if (c === undefined) throw invalid(p, p.pos, 'Unclosed character class')
    if (c === ']' && !first) break
    first = false
    if (c === '[') throw unsupported(p, p.pos, 'a nested character class [a[b]] (Java-only union)')
    if (c === '&' && ch(p, 1) === '&') throw unsupported(p, p.pos, 'a class intersection && (Java-only)')
    const lo = parseClassAtom(p)
    if (typeof lo === 'string') {
      out += lo
      continue
    }
    if (ch(p) === '-' && ch(p, 1) !== ']' && ch(p, 1) !== undefined) {
      if (ch(p, 1) === '[') throw unsupported(p, p.pos, 'a range followed by a nested class')
      p.pos++
      const hi = parseClassAtom(p)
      if (typeof hi === 'string') throw invalid(p, p.pos - 1, 'Illegal character range')
      if (hi < lo) throw invalid(p, p.pos - 1, 'Illegal character range')
      out += `${classLiteral(lo)}-${classLiteral(hi)}`
      continue
    }
    out += classLiteral(lo)
  }
  p.pos++
  return `[${negated ? '^' : ''}${out}]`
}

function parseClassAtom(p: Parser): number | string {
  const c = ch(p)!
  p.pos++
  if (c !== '\\') return c.codePointAt(0)!
  if (ch(p) === 'Q') throw unsupported(p, p.pos - 1, '\\Q…\\E inside a character class')
  const value = parseEscapeValue(p, p.pos - 1, true)
  return typeof value === 'number' ? value : value.inner
}

const hex = (cp: number): string => `\\u{${cp.toString(16).toUpperCase()}}`

function literal(cp: number): string {
  const c = String.fromCodePoint(cp)
  if (/[\\^$.*+?()[\]{}|/]/.test(c)) return `\\${c}`
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029) return hex(cp)
  if (cp >= 0xd800 && cp <= 0xdfff) return hex(cp)
  return c
}

function classLiteral(cp: number): string {
  const c = String.fromCodePoint(cp)
  if (/[\\\]^[-]/.test(c)) return `\\${c}`
  return literal(cp)
}

interface Emitter {
  groups: number
}

function emit(node: Node, e: Emitter): string {
  switch (node.t) {
    case 'alt':
      return node.alts.map((seq) => seq.map((n) => emit(n, e)).join('')).join('|')
    case 'lit':
      return literal(node.cp)
    case 'raw':
      return node.src
    case 'group': {
      if (node.kind === 'atomic') {
        // JavaScript lookaheads are atomic: (?=(X))\k matches what X matched, without backtracking into it.
        const k = ++e.groups
        return `(?=(${emit(node.body, e)}))\\${k}`
      }
      const open = node.kind === 'ahead' ? '(?=' : node.kind === 'nahead' ? '(?!' : '(?:'
      return `${open}${emit(node.body, e)})`
    }
    case 'quant': {
      const q =
        node.min === 0 && node.max === Number.POSITIVE_INFINITY
          ? '*'
          : node.min === 1 && node.max === Number.POSITIVE_INFINITY
            ? '+'
            : node.min === 0 && node.max === 1
              ? '?'
              : node.max === Number.POSITIVE_INFINITY
                ? `{${node.min},}`
                : node.min === node.max
                  ? `{${node.min}}`
                  : `{${node.min},${node.max}}`
      if (node.mode === 'possessive') {
        const k = ++e.groups
        return `(?=(${quantifiable(node.body, e)}${q}))\\${k}`
      }
      return `${quantifiable(node.body, e)}${q}${node.mode === 'lazy' ? '?' : ''}`
    }
  }
}

function quantifiable(node: Node, e: Emitter): string {
  if (node.t === 'lit' || (node.t === 'raw' && node.atom)) return emit(node, e)
  if (node.t === 'group' && node.kind === 'plain') return emit(node, e)
  return `(?:${emit(node, e)})`
}

/**
 * Compiles an allowed-URL pattern of the Evotor developer portal (a Java regular expression)
 * into a JavaScript RegExp with the portal's meaning: anchored at both ends, as Java's
 * `Pattern.matches()` (the whole URL must match), with Java's `.`, `$`, `\s` and ASCII-only
 * POSIX classes. What cannot be translated faithfully is refused, never approximated.
 *
 * @param pattern - The pattern exactly as entered on the portal.
 * @returns `{ ok: true, regexp, notes }`, or `{ ok: false, error, notes }` where `error.kind` is
 *   `invalid` (Java rejects it: the portal refuses the pattern) or `unsupported` (valid Java this
 *   checker cannot reproduce). `notes` lists constructs that differ between Java and JavaScript.
 * @throws {TypeError} When `pattern` is not a string.
 *
 * @example
 * ```ts
 * import { compileAllowedUrlPattern } from 'evotor-partner'
 * const compiled = compileAllowedUrlPattern('https://another\\.host\\.com/document.*\\.jsp')
 * if (compiled.ok) compiled.regexp.test('https://another.host.com/document1.jsp?x=1') // false, as in Java
 * compileAllowedUrlPattern('https://a\\.b/{id}').ok // false: Java's "Illegal repetition"
 * ```
 */
export function compileAllowedUrlPattern(pattern: string): CompiledAllowedUrlPattern {
  if (typeof pattern !== 'string') throw new TypeError('compileAllowedUrlPattern: pattern must be a string')
  const cps = Array.from(pattern, (c) => c.codePointAt(0)!)
  const offsets: number[] = []
  let offset = 0
  for (const cp of cps) {
    offsets.push(offset)
    offset += cp > 0xffff ? 2 : 1
  }
  offsets.push(offset)
  const p: Parser = { cps, offsets, pos: 0, notes: [] }
  const artefact = pattern.indexOf('¶')
  if (artefact >= 0) {
    p.notes.push({
      kind: 'artefact',
      index: artefact,
      message:
        "'¶' is how the documentation page renders '&para' (an HTML entity): the example's '&param=' was damaged by copying; write '&param='",
    })
  }
  try {
    const tree = parseAlternation(p)
    if (p.pos < cps.length) throw invalid(p, p.pos, "Unmatched closing ')'")
    const source = `^(?:${emit(tree, { groups: 0 })})$`
    return { ok: true, pattern, regexp: new RegExp(source, 'u'), notes: p.notes }
  } catch (error) {
    if (!(error instanceof PatternIssue)) throw error
    return {
      ok: false,
      pattern,
      error: { kind: error.kind, index: error.at, message: error.message },
      notes: p.notes,
    }
  }
}
