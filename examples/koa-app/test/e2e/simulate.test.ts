import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { runConformance } from 'evotor-partner/testing'
import { afterEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { APP_TOKEN, createTestDir, startTestApp, type TestApp } from './harness.js'

// Issue 7: the Evotor cloud simulator against the reference service, on a temporary database.
const run = promisify(execFile)
const require = createRequire(import.meta.url)
const bin = join(dirname(require.resolve('evotor-partner/package.json')), 'dist', 'cli.js')

let app: TestApp | undefined
let dir: TempDir | undefined
afterEach(async () => {
  await app?.close()
  dir?.cleanup()
  app = undefined
  dir = undefined
})

describe.each([2, 1] as const)(
  'evotor-partner simulate against examples/koa-app (proxy ver. %i)',
  (proxyVersion) => {
    it('passes every check', async () => {
      dir = createTestDir()
      app = await startTestApp(dir, { proxyVersion })
      const report = await runConformance({
        baseUrl: app.url,
        appToken: APP_TOKEN,
        proxyVersion,
        proxyPath: '/trpc/whoami',
        statePath: '/trpc/account.state',
      })
      const failed = report.results.filter((r) => r.status !== 'pass')
      expect(failed.map((r) => `${r.id}: ${r.message}`)).toEqual([])
      expect(report.ok).toBe(true)
      expect(report.summary.passed).toBeGreaterThanOrEqual(24)
    })

    it('exits 0 from the real bin and prints the table', async () => {
      dir = createTestDir()
      app = await startTestApp(dir, { proxyVersion })
      const { stdout } = await run(process.execPath, [
        bin,
        'simulate',
        app.url,
        '--app-token',
        APP_TOKEN,
        '--proxy-version',
        String(proxyVersion),
        '--proxy-path',
        '/trpc/whoami',
        '--state-path',
        '/trpc/account.state',
      ])
      expect(stdout).toMatch(/passed/i)
      expect(stdout).not.toContain(APP_TOKEN)
    })
  },
)
