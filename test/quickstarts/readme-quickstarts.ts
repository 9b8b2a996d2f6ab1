/**
 * Reads the quick starts out of README.md: every `<!-- quickstart:<name>:start -->` …
 * `<!-- quickstart:<name>:end -->` region holds an `sh` block with the `npm install` line, the
 * `server.ts` (a `ts` block), and an `sh` block with the `npx evotor-partner simulate` command
 * that checks it.
 */
import { readFileSync } from 'node:fs'
import { REPO } from './scratch.js'

export interface QuickStart {
  name: string
  /** `server.ts` exactly as the README shows it. */
  source: string
  /** Packages of the `npm install` lines (flags left out). */
  installs: string[]
  /** The documented simulate command after `npx evotor-partner ` (split it with {@link shellWords}). */
  simulate: string
  /** `process.env.X` names the source reads. */
  env: string[]
}

export function readReadme(): string {
  return readFileSync(`${REPO}README.md`, 'utf8')
}

const REGION = /<!-- quickstart:([a-z0-9-]+):start -->([\s\S]*?)<!-- quickstart:([a-z0-9-]+):end -->/g
const BLOCK = /```(\w+)\n([\s\S]*?)```/g

/** Splits a shell line into words: double/single quotes, `$NAME` expanded from `env`. */
export function shellWords(line: string, env: Record<string, string>): string[] {
  const words: string[] = []
  for (const match of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const [, double, single, bare] = match
    if (single !== undefined) words.push(single)
    else
      words.push(
        (double ?? bare ?? '').replace(/\$([A-Z_][A-Z0-9_]*)/g, (_, name: string) => env[name] ?? ''),
      )
  }
  return words
}

export function extractQuickStarts(readme: string): QuickStart[] {
  const quickStarts: QuickStart[] = []
  for (const [, name, body, endName] of readme.matchAll(REGION)) {
    if (name === undefined || body === undefined) continue
    if (endName !== name) throw new Error(`quickstart:${name}:start is closed by quickstart:${endName}:end`)
    const blocks = [...body.matchAll(BLOCK)].map(([, lang, text]) => ({ lang, text: text ?? '' }))
    const ts = blocks.filter((block) => block.lang === 'ts')
    if (ts.length !== 1)
      throw new Error(`quickstart:${name} must hold exactly one ts block, has ${ts.length}`)
    const shLines = blocks
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.text.split('\n'))
      .map((line) => line.replace(/\s+#.*$/, '').trim())
    const installs = shLines
      .filter((line) => line.startsWith('npm install') || line.startsWith('npm i '))
      .flatMap((line) => line.split('&&'))
      .flatMap((command) => command.trim().split(/\s+/).slice(2))
      .filter((word) => !word.startsWith('-'))
    const simulateLine = shLines.find((line) => line.startsWith('npx evotor-partner simulate '))
    if (simulateLine === undefined)
      throw new Error(`quickstart:${name} has no "npx evotor-partner simulate" line`)
    const source = ts[0]?.text ?? ''
    quickStarts.push({
      name,
      source,
      installs,
      simulate: simulateLine.slice('npx evotor-partner '.length),
      env: [
        ...new Set([...source.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map(([, env]) => env ?? '')),
      ],
    })
  }
  return quickStarts
}

/** The packages a source imports (`evotor-partner/koa` -> `evotor-partner`; `node:` left out). */
export function importedPackages(source: string): string[] {
  const packages = new Set<string>()
  for (const [, specifier] of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    if (specifier === undefined || specifier.startsWith('node:') || specifier.startsWith('.')) continue
    const parts = specifier.split('/')
    packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier))
  }
  return [...packages].sort()
}
