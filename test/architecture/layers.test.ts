/**
 * The layers of design.md "Layers": dependencies point one way, and src/ has no import cycle.
 * Reads the import and re-export statements of every file under src/ (type-only ones too: a type
 * import ties the layers together just the same).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = resolve(import.meta.dirname, '../../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

const SPECIFIER =
  /(?:^|[\n;])\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g

/** Relative imports of one source text, as paths relative to src/ (`core/webhooks.ts`). */
function importsOf(file: string, text: string): string[] {
  const out: string[] = []
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2]
    if (specifier === undefined || !specifier.startsWith('.')) continue
    const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))
    out.push(relative(SRC, target).split('\\').join('/'))
  }
  return out
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    edges.set(relative(SRC, file).split('\\').join('/'), importsOf(file, readFileSync(file, 'utf8')))
  }
  return edges
}

/** Every import cycle, each as the list of files around it (Tarjan's strongly connected components). */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    index.set(node, counter)
    low.set(node, counter)
    counter++
    stack.push(node)
    onStack.add(node)
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number))
      }
    }
    if (low.get(node) !== index.get(node)) return
    const component: string[] = []
    for (;;) {
      const top = stack.pop() as string
      onStack.delete(top)
      component.push(top)
      if (top === node) break
    }
    if (component.length > 1 || (edges.get(node) ?? []).includes(node)) found.push(component.sort())
  }
  for (const node of edges.keys()) if (!index.has(node)) visit(node)
  return found
}

/** Which layer may not import which (design.md "Layers"). */
const FORBIDDEN: Record<string, readonly string[]> = {
  protocol: ['core', 'adapters', 'client', 'stores', 'testing', 'terminal', 'index.ts', 'cli.ts'],
  core: ['adapters', 'client', 'stores', 'testing', 'terminal', 'index.ts', 'cli.ts'],
}

describe('layers', () => {
  it('reads imports, re-exports and dynamic imports', () => {
    const file = join(SRC, 'core/x.ts')
    const text = [
      "import { a } from '../protocol/a.js'",
      "import type { B } from './b.js'",
      "export { c } from '../adapters/c.js'",
      "const d = await import('./d.js')",
      "import { z } from 'zod'",
    ].join('\n')
    expect(importsOf(file, text)).toEqual(['protocol/a.ts', 'core/b.ts', 'adapters/c.ts', 'core/d.ts'])
  })

  it('finds a cycle and its members, and none in a tree', () => {
    const looped = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ])
    expect(cycles(looped)).toEqual([['a.ts', 'b.ts', 'c.ts']])
    expect(
      cycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([])
  })

  it('protocol/ imports nothing from core/ or adapters/, core/ nothing from adapters/', () => {
    const wrong: string[] = []
    for (const [file, imports] of graph()) {
      const layer = file.split('/')[0] as string
      for (const target of imports) {
        if (FORBIDDEN[layer]?.includes(target.split('/')[0] as string)) wrong.push(`${file} -> ${target}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('src/ has no import cycle', () => {
    expect(cycles(graph())).toEqual([])
  })
})
