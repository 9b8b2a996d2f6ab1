// Issue 15: the starter works when copied. examples/koa-app is copied to a folder outside the
// repository, its `evotor-partner` dependency pointed at the packed library, installed from the
// npm registry alone; then its own tests, its typecheck, `npm start`, and the README's curl
// walkthrough (extracted from the README, so a README change is tested) run there.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  copyStarter,
  freePort,
  installEnv,
  npmInstall,
  packLibrary,
  plain,
  run,
  type StartedApp,
  startApp,
  tempFolder,
} from './support.js'
import { runWalkthrough, type WalkCall, walkthroughScript } from './walkthrough.js'

const MINUTE = 60_000
let temp: ReturnType<typeof tempFolder>
let app: string

beforeAll(async () => {
  temp = tempFolder('evotor-starter-copy-')
  const tarball = await packLibrary(temp.path)
  app = join(temp.path, 'my-service')
  copyStarter(app)
  // What a copy needs: the library from a registry (here: the packed tarball) instead of ../..
  await run('npm', ['pkg', 'set', `dependencies.evotor-partner=file:${tarball}`], { cwd: app })
  await npmInstall(app, await installEnv(temp.path))
}, 15 * MINUTE)

afterAll(() => temp?.cleanup())

describe('examples/koa-app copied outside the repository', () => {
  it('was installed from the tarball, not linked to the repository', () => {
    const lib = join(app, 'node_modules', 'evotor-partner')
    expect(existsSync(join(lib, 'dist', 'index.js'))).toBe(true)
    expect(existsSync(join(lib, 'src'))).toBe(false) // a packed copy, not a link to the repository
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >
    for (const tool of ['typescript', 'vitest', '@types/node'])
      expect(pkg.devDependencies?.[tool], `${tool} is declared`).toBeDefined()
    const tsc = JSON.parse(readFileSync(join(app, 'node_modules', 'typescript', 'package.json'), 'utf8'))
    expect(tsc.version).toMatch(/^5\.9\./)
  })

  it(
    'passes its own tests (npm test)',
    async () => {
      const { stdout } = await run('npm', ['test'], { cwd: app, timeoutMs: 20 * MINUTE })
      const summary = plain(stdout)
      expect(summary).toMatch(/Test Files\s+\d+ passed \(\d+\)/)
      expect(summary).not.toMatch(/Tests\s+.*\d+ (failed|skipped)/)
    },
    25 * MINUTE,
  )

  it(
    'typechecks (npm run typecheck)',
    async () => {
      await run('npm', ['run', 'typecheck'], { cwd: app, timeoutMs: 5 * MINUTE })
    },
    6 * MINUTE,
  )

  describe('started with npm start on a PORT of its own', () => {
    let started: StartedApp | undefined
    let calls: WalkCall[] = []
    const readme = () => readFileSync(join(app, 'README.md'), 'utf8')

    beforeAll(async () => {
      const port = await freePort()
      started = await startApp(app, port)
      calls = await runWalkthrough(walkthroughScript(readme()), {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(port),
        APP_TOKEN: started.appToken,
      })
    }, 5 * MINUTE)
    afterAll(async () => {
      await started?.stop()
    })

    it('the walkthrough sends millisecond timestamps', () => {
      const script = walkthroughScript(readme())
      expect(script).not.toContain('%s000')
      expect(script.match(/\$\(date \+%s%3N\)/g)?.length).toBeGreaterThanOrEqual(3)
    })

    it('answers every step of the README walkthrough as the README says', () => {
      const at = (method: string, path: string) =>
        calls.filter((c) => c.method === method && new URL(c.url).pathname === path)
      expect(calls.length).toBeGreaterThanOrEqual(15)
      for (const call of calls) expect(call.status, `${call.method} ${call.url}`).toBeGreaterThan(0)

      const [create] = at('POST', '/api/v1/user/create')
      expect(create?.status).toBe(200)
      expect(JSON.parse(create?.body ?? '{}')).toMatchObject({
        userId: '01-000000000000001',
        token: expect.any(String),
      })
      expect(at('POST', '/api/v1/user/verify')[0]).toMatchObject({ status: 200 })
      expect(JSON.parse(at('POST', '/api/v1/user/verify')[0]?.body ?? '{}')).toMatchObject({
        hasBilling: false,
      })

      // Notifications: exactly 200 and an empty body.
      const notifications = calls.filter((c) =>
        /\/(subscription\/event|installation\/event|inventories\/|receipts)/.test(new URL(c.url).pathname),
      )
      expect(notifications.length).toBeGreaterThanOrEqual(8)
      for (const n of notifications)
        expect({ url: n.url, status: n.status, body: n.body }).toEqual({ url: n.url, status: 200, body: '' })

      const lookup = calls.find((c) => new URL(c.url).pathname === '/api/v1/commodities')
      expect(lookup?.status).toBe(200)
      expect(lookup?.body).toContain('4601234567890')

      const summary = calls.find((c) => new URL(c.url).pathname === '/trpc/store.summary')
      expect(summary?.status).toBe(200)
      expect(JSON.parse(summary?.body ?? '{}')).toMatchObject({
        result: { data: { count: 1, total: '89.90' } },
      })
      for (const c of calls.filter((c) => new URL(c.url).pathname === '/trpc/catalog.lookup'))
        expect(c.status).toBe(200)

      // The uninstall revokes the token issued moments before it (same second included).
      const whoami = calls.filter((c) => new URL(c.url).pathname === '/trpc/whoami')
      expect(whoami.map((c) => c.status)).toEqual([200, 401])
      expect(JSON.parse(whoami[1]?.body ?? '{}')).toEqual({ errors: [{ code: 1002 }] })
    })

    it('keeps the development database, with its secrets, out of git', () => {
      expect(existsSync(join(app, 'data', 'app.sqlite'))).toBe(true)
      execFileSync('git', ['init', '-q'], { cwd: app })
      const tracked = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
        cwd: app,
        encoding: 'utf8',
      })
      expect(tracked).toContain('src/main.ts')
      expect(tracked).not.toMatch(/data\/|\.sqlite|node_modules/)
      expect(started?.output()).toContain(`listening on ${started?.url}`)
    })
  })
})
