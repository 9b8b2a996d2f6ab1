import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ConformanceReport } from '../../src/testing/index.js'
import {
  extractQuickStarts,
  importedPackages,
  type QuickStart,
  readReadme,
  shellWords,
} from './readme-quickstarts.js'
import {
  createScratch,
  freePort,
  run,
  type Scratch,
  type Started,
  startServer,
  typeCheckAll,
} from './scratch.js'

// Every README quick start, as written, in a scratch project outside the repository that installs
// the packed tarball: type-checked under moduleResolution node16 and bundler, started with tsx,
// and checked by `evotor-partner simulate` through the installed bin: 24 of 24 checks must pass.

const readme = readReadme()
const quickStarts = extractQuickStarts(readme)
const byName = new Map(quickStarts.map((quickStart) => [quickStart.name, quickStart]))

/** The quick starts the README must have, in order. */
const EXPECTED = ['koa', 'express', 'hono', 'trpc-fetch', 'trpc-express']

/** What runs: the Express quick start twice, once with `express` resolving to Express 4. */
const RUNS = [
  { id: 'koa', quickStart: 'koa', express4: false },
  { id: 'express 5', quickStart: 'express', express4: false },
  { id: 'express 4', quickStart: 'express', express4: true },
  { id: 'hono', quickStart: 'hono', express4: false },
  { id: 'trpc-fetch', quickStart: 'trpc-fetch', express4: false },
  { id: 'trpc-express', quickStart: 'trpc-express', express4: false },
]

/** Values of the variables the quick starts document (PORT is a free port per run). */
const ENV: Record<string, string> = {
  EVOTOR_APP_TOKEN: 'quickstart-app-token-5b1e9c2a-7f3d-4e8a-b6c1-2d9f0a7e4c3b',
  USER_TOKEN_SECRET: 'quickstart-user-token-secret-0123456789abcdef0123456789abcdef',
}
/** The URL the README's simulate commands use; replaced by the run's port. */
const DOCUMENTED_URL = 'http://127.0.0.1:3000'
/** Packages whose types come from DefinitelyTyped: the install line must name them too. */
const TYPES_PACKAGES: Record<string, string> = { koa: '@types/koa', express: '@types/express' }

let scratch: Scratch
const projects = new Map<string, string>()
const servers = new Set<Started>()
/** Every type check, started once the projects exist; runs while the servers are simulated. */
let typeChecks: Promise<Record<string, string>>

beforeAll(async () => {
  scratch = await createScratch()
  for (const entry of RUNS) {
    const quickStart = byName.get(entry.quickStart)
    if (quickStart === undefined) continue
    const project = scratch.project(entry.id.replace(/\s+/g, ''), { express4: entry.express4 })
    writeFileSync(join(project, 'server.ts'), quickStart.source)
    projects.set(entry.id, project)
  }
  typeChecks = typeCheckAll(scratch, [...projects.values()])
  // Reported by the type-check tests; never an unhandled rejection before they run.
  typeChecks.catch(() => {})
}, 300_000)

afterAll(async () => {
  await Promise.all([...servers].map((server) => server.stop()))
  scratch?.remove()
})

function quickStartOf(name: string): QuickStart {
  const quickStart = byName.get(name)
  if (quickStart === undefined) throw new Error(`README has no quickstart:${name} region`)
  return quickStart
}

describe('README quick starts', () => {
  it('has one per framework, each naming what it installs and the variables it reads', () => {
    expect(quickStarts.map((quickStart) => quickStart.name)).toEqual(EXPECTED)
    const documented = /## Quick start[\s\S]*?<!-- quickstart:/.exec(readme)?.[0] ?? ''
    for (const quickStart of quickStarts) {
      const imported = importedPackages(quickStart.source)
      const needed = [...imported, ...imported.flatMap((name) => TYPES_PACKAGES[name] ?? [])]
      expect({ [quickStart.name]: needed.filter((name) => !quickStart.installs.includes(name)) }).toEqual({
        [quickStart.name]: [],
      })
      // Every variable it reads is explained before the first quick start.
      for (const name of quickStart.env)
        expect(documented, `${quickStart.name} reads ${name}`).toContain(name)
      expect(quickStart.simulate).toContain(DOCUMENTED_URL)
    }
  })
})

// One after the other: the type checks run meanwhile in their own process; a run takes seconds.
describe.each(RUNS)('quick start: $id', (entry) => {
  it('starts and passes evotor-partner simulate 24/24 through the installed bin', async () => {
    const quickStart = quickStartOf(entry.quickStart)
    const project = projects.get(entry.id)
    if (project === undefined) throw new Error('scratch project missing')
    const port = await freePort()
    const env: Record<string, string> = { ...ENV, PORT: String(port) }
    for (const name of quickStart.env) expect(env, `a value for ${name}`).toHaveProperty(name)
    const server = await startServer(project, env, port)
    servers.add(server)
    try {
      const args = shellWords(quickStart.simulate, env).map((word) =>
        word === DOCUMENTED_URL ? `http://127.0.0.1:${port}` : word,
      )
      const bin = join(scratch.dir, 'node_modules/.bin/evotor-partner')
      const result = await run(bin, [...args, '--json'], { cwd: project, timeoutMs: 150_000 })
      let report: ConformanceReport
      try {
        report = JSON.parse(result.stdout) as ConformanceReport
      } catch {
        throw new Error(
          `simulate printed no report (exit ${result.code}):\n${result.stderr}\n${server.output()}`,
        )
      }
      const notPassed = report.results
        .filter((check) => check.status !== 'pass')
        .map((check) => `${check.id}: ${check.status}: ${check.message}`)
      expect(notPassed, server.output()).toEqual([])
      expect(report.summary).toEqual({ total: 24, passed: 24, failed: 0, skipped: 0, blocked: 0 })
      expect(report.notices).toEqual([])
      expect(result.code).toBe(0)
      // Still up: nothing in the run crashed it (an async throw under Express 4 would).
      expect(server.child.exitCode).toBeNull()
    } finally {
      await server.stop()
      servers.delete(server)
    }
  }, 180_000)
})

describe.each(RUNS)('quick start: $id', (entry) => {
  it('type-checks under moduleResolution node16 and bundler, against the packed tarball', async () => {
    quickStartOf(entry.quickStart)
    const project = projects.get(entry.id)
    if (project === undefined) throw new Error('scratch project missing')
    const results = await typeChecks
    expect({ node16: results[`${project}:node16`], bundler: results[`${project}:bundler`] }).toEqual({
      node16: '',
      bundler: '',
    })
  }, 240_000)
})
