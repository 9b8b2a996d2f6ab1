import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { runConformance } from 'evotor-partner/testing'
import { afterEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../helpers.js'
import { APP_TOKEN, createTestDir, startTestApp, type TestApp } from './harness.js'

// Issue 7: the Evotor cloud simulator against the reference service, on a temporary database.
const run = promisify(execFile)
const APP_DIR = fileURLToPath(new URL('../..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

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

    it('exits 0 through `npm run simulate` on the PORT it is given, and prints the table', async () => {
      dir = createTestDir()
      app = await startTestApp(dir, { proxyVersion })
      const port = new URL(app.url).port
      expect(port).not.toBe('3000')
      // The script the README gives: PORT picks the service, the rest goes to the real bin.
      const { stdout } = await run(
        npm,
        [
          'run',
          '--silent',
          'simulate',
          '--',
          '--app-token',
          APP_TOKEN,
          '--proxy-version',
          String(proxyVersion),
        ],
        { cwd: APP_DIR, env: { ...process.env, PORT: port, HOST: '127.0.0.1' } },
      )
      expect(stdout).toContain(`http://127.0.0.1:${port}`)
      expect(stdout).toMatch(/passed/i)
      expect(stdout).not.toContain(APP_TOKEN)
    })
  },
)
