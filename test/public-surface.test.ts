/**
 * The public surface (design.md "Public surface"): the root entry point stays at or under 80 names,
 * and every name exported from any entry point of package.json "exports" is documented, either in
 * the README's code (a fenced block or an inline code span) or by TSDoc with an `@example`.
 * The exports are read from the sources with the TypeScript compiler, as a user's editor sees them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const MAX_ROOT_NAMES = 80

interface ExportedName {
  name: string
  /** A value (function, class, constant) rather than a type only. */
  value: boolean
  /** The TSDoc of one of its declarations has an `@example`. */
  example: boolean
}

function compilerOptions(): ts.CompilerOptions {
  const file = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile)
  return ts.parseJsonConfigFileContent(file.config, ts.sys, ROOT).options
}

/** One program over `entries` (one for every entry point is much faster than one each). */
function programOf(entries: readonly string[]): ts.Program {
  return ts.createProgram(entries, { ...compilerOptions(), noEmit: true })
}

/** Every name an entry file exports, with whether it is a value and whether its TSDoc has an example. */
function exportedNames(entry: string, program = programOf([entry])): ExportedName[] {
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(entry)
  if (source === undefined) throw new Error(`no source file ${entry}`)
  const module = checker.getSymbolAtLocation(source)
  if (module === undefined) return []
  return checker.getExportsOfModule(module).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
    const declarations = target.declarations ?? []
    const example = declarations.some((d) => ts.getJSDocTags(d).some((tag) => tag.tagName.text === 'example'))
    return { name: symbol.name, value: (target.flags & ts.SymbolFlags.Value) !== 0, example }
  })
}

/** The README's code: fenced blocks and inline code spans, where a name counts as documented. */
function codeOf(markdown: string): string {
  const fenced = [...markdown.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1])
  const withoutFences = markdown.replace(/```[^\n]*\n[\s\S]*?```/g, '')
  const inline = [...withoutFences.matchAll(/`([^`\n]+)`/g)].map((m) => m[1])
  return [...fenced, ...inline].join('\n')
}

/** The exported names that neither the README's code mentions nor TSDoc with `@example` documents. */
function undocumented(names: readonly ExportedName[], markdown: string): string[] {
  const code = codeOf(markdown)
  const mentioned = (name: string) =>
    new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(code)
  return names.filter((n) => !n.example && !mentioned(n.name)).map((n) => n.name)
}

/** The source file of each entry point (tsup.config.ts builds `dist/<name>` from it). */
const ENTRY_SOURCES: Record<string, string> = {
  '.': 'src/index.ts',
  './protocol': 'src/protocol/index.ts',
  './koa': 'src/adapters/koa.ts',
  './express': 'src/adapters/express.ts',
  './fetch': 'src/adapters/fetch.ts',
  './hono': 'src/adapters/hono.ts',
  './trpc': 'src/adapters/trpc.ts',
  './client': 'src/client/index.ts',
  './testing': 'src/testing/index.ts',
  './redis': 'src/stores/redis.ts',
}
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>
}
const ENTRY_POINTS = Object.keys(PACKAGE.exports).filter((key) => key !== './package.json')
const PROGRAM = programOf(Object.values(ENTRY_SOURCES).map((source) => join(ROOT, source)))
const exportsOf = (entry: string) =>
  exportedNames(join(ROOT, ENTRY_SOURCES[entry] ?? `missing source of ${entry}`), PROGRAM)

const root = exportsOf('.')
const protocol = exportsOf('./protocol')

describe('public surface', () => {
  it(`the root exports at most ${MAX_ROOT_NAMES} names (values and types)`, () => {
    expect(root.length).toBeGreaterThan(40) // the reader found the barrel
    expect(root.length).toBeLessThanOrEqual(MAX_ROOT_NAMES)
    expect(root.map((n) => n.name)).toEqual(expect.arrayContaining(['createEvotorWebhooks', 'EvotorError']))
  })

  it('the wire format lives in evotor-partner/protocol, not in the root', () => {
    const rootNames = new Set(root.map((n) => n.name))
    const moved = [
      'EVOTOR_ROUTES',
      'RouteName',
      'StoresSchema',
      'Store',
      'SubscriptionEvent',
      'EVOTOR_ERROR_CODES',
    ]
    for (const name of moved) {
      expect(rootNames.has(name), name).toBe(false)
      expect(protocol.some((n) => n.name === name)).toBe(true)
    }
  })

  it('every root export appears in the README or has TSDoc with an @example', () => {
    expect(undocumented(root, README)).toEqual([])
  })

  it('every evotor-partner/protocol export appears in the README or has TSDoc with an @example', () => {
    expect(protocol.length).toBeGreaterThan(40)
    expect(undocumented(protocol, README)).toEqual([])
  })

  it('knows the source of every entry point in package.json "exports", and of no other', () => {
    expect(Object.keys(ENTRY_SOURCES).sort()).toEqual([...ENTRY_POINTS].sort())
    const tsup = readFileSync(join(ROOT, 'tsup.config.ts'), 'utf8')
    for (const [entry, source] of Object.entries(ENTRY_SOURCES)) {
      const name = entry === '.' ? 'index' : entry.slice(2)
      expect(tsup, entry).toContain(`${name}: '${source}'`)
    }
  })

  const others = ENTRY_POINTS.filter((entry) => entry !== '.' && entry !== './protocol')
  it.each(others.map((entry) => ({ entry, name: `evotor-partner${entry.slice(1)}` })))(
    'every $name export appears in the README or has TSDoc with an @example',
    ({ entry }) => {
      const names = exportsOf(entry)
      expect(names.length).toBeGreaterThan(0)
      expect(undocumented(names, README)).toEqual([])
    },
  )
})

describe('the documentation check itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evotor-surface-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reports an export with neither an @example nor a README mention, and only that one', () => {
    writeFileSync(
      join(dir, 'lib.ts'),
      [
        '/**',
        ' * Documented by example.',
        ' * @example',
        ' * ```ts',
        ' * documented()',
        ' * ```',
        ' */',
        'export function documented(): void {}',
        '/** A summary but no example. */',
        'export function undocumentedHelper(): void {}',
        '/** In the README only. */',
        'export const IN_README = 1',
        'export interface Plain { a: number }',
      ].join('\n'),
    )
    const entry = join(dir, 'index.ts')
    writeFileSync(
      entry,
      "export { documented, IN_README, undocumentedHelper } from './lib.js'\nexport type { Plain } from './lib.js'\n",
    )
    const names = exportedNames(entry)
    expect(names.map((n) => n.name).sort()).toEqual([
      'IN_README',
      'Plain',
      'documented',
      'undocumentedHelper',
    ])
    expect(names.find((n) => n.name === 'Plain')?.value).toBe(false)
    const readme =
      'Use `IN_README` and read about undocumentedHelper in prose (not code).\n\n```ts\nPlain2()\n```\n'
    expect(undocumented(names, readme).sort()).toEqual(['Plain', 'undocumentedHelper'])
    // A README code mention documents it.
    expect(undocumented(names, `${readme}\n\`undocumentedHelper()\``)).toEqual(['Plain'])
  })
})
