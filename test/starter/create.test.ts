// Issue 15: `npm create evotor-partner my-service`. Both packages are packed; the creator runs
// from its tarball (as `npm create` runs it from the registry), the new project is pointed at
// the library's tarball, installed from the npm registry alone, and its tests run.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cleanEnv,
  installEnv,
  LIBRARY_VERSION,
  npmInstall,
  packLibrary,
  plain,
  ROOT,
  run,
  STARTER,
  tempFolder,
} from './support.js'

const MINUTE = 60_000
const CREATOR = join(ROOT, 'packages', 'create-evotor-partner')
let temp: ReturnType<typeof tempFolder>
let libraryTarball: string
let creatorTarball: string

/** `npm exec` of the packed creator in `cwd`; resolves with the exit code and both streams. */
async function create(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  return await new Promise((resolve) => {
    execFile(
      npm,
      ['exec', '--yes', '--package', creatorTarball, '--', 'create-evotor-partner', ...args],
      { cwd, env: cleanEnv(), timeout: 3 * MINUTE },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

beforeAll(async () => {
  temp = tempFolder('evotor-create-')
  libraryTarball = await packLibrary(temp.path)
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', temp.path], { cwd: CREATOR })
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [
    { filename: string; files: { path: string }[] },
  ]
  creatorTarball = join(temp.path, info.filename)
  // The tarball ships the starter, generated at prepack.
  const files = info.files.map((f) => f.path)
  expect(files).toContain('template/src/main.ts')
  expect(files).toContain('template/gitignore')
  expect(files.some((f) => /node_modules|\/data\/|\.sqlite/.test(f))).toBe(false)
}, 5 * MINUTE)

afterAll(() => temp?.cleanup())

describe('npm create evotor-partner', () => {
  it('has the library version: the version it pins in new projects is its own', () => {
    const creator = JSON.parse(readFileSync(join(CREATOR, 'package.json'), 'utf8')) as { version: string }
    expect(creator.version).toBe(LIBRARY_VERSION)
    const workspaces = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces
    expect(workspaces).toContain('packages/*')
  })

  it(
    'refuses a folder that is not empty, exit 1, writing nothing',
    async () => {
      const folder = join(temp.path, 'taken')
      mkdirSync(folder)
      writeFileSync(join(folder, 'notes.txt'), 'mine')
      const result = await create(temp.path, 'taken')
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('taken is not empty; nothing was written')
      expect(readdirSync(folder)).toEqual(['notes.txt'])
      expect(readFileSync(join(folder, 'notes.txt'), 'utf8')).toBe('mine')
    },
    4 * MINUTE,
  )

  it(
    'refuses a missing folder name with its usage, exit 1',
    async () => {
      const result = await create(temp.path)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('Usage: npm create evotor-partner <folder>')
    },
    4 * MINUTE,
  )

  describe('my-service', () => {
    let project: string
    let output: { code: number; stdout: string; stderr: string }

    beforeAll(async () => {
      // An existing empty folder is fine too; this one does not exist yet.
      output = await create(temp.path, 'my-service')
      project = join(temp.path, 'my-service')
    }, 4 * MINUTE)

    it('writes the starter and prints the two commands to run next', () => {
      expect(output.code).toBe(0)
      expect(output.stdout).toContain('Next:\n  cd my-service\n  npm install && npm start\n')
      for (const file of [
        'README.md',
        '.gitignore',
        'tsconfig.json',
        'vitest.config.ts',
        'src/main.ts',
        'test/e2e/harness.ts',
      ])
        expect(existsSync(join(project, file)), file).toBe(true)
      expect(existsSync(join(project, 'gitignore'))).toBe(false)
      expect(readFileSync(join(project, '.gitignore'), 'utf8')).toBe(
        readFileSync(join(STARTER, '.gitignore'), 'utf8'),
      )
      expect(existsSync(join(project, 'node_modules'))).toBe(false)
      expect(existsSync(join(project, 'data'))).toBe(false)
    })

    it('pins evotor-partner to the matching version', () => {
      const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
        name: string
        dependencies: Record<string, string>
      }
      expect(pkg.name).toBe('my-service')
      expect(pkg.dependencies['evotor-partner']).toBe(LIBRARY_VERSION)
    })

    it(
      'installs against the library tarball and passes its own tests',
      async () => {
        await run('npm', ['pkg', 'set', `dependencies.evotor-partner=file:${libraryTarball}`], {
          cwd: project,
        })
        await npmInstall(project, await installEnv(temp.path))
        const { stdout } = await run('npm', ['test'], { cwd: project, timeoutMs: 20 * MINUTE })
        const summary = plain(stdout)
        expect(summary).toMatch(/Test Files\s+\d+ passed \(\d+\)/)
        expect(summary).not.toMatch(/Tests\s+.*\d+ (failed|skipped)/)
      },
      35 * MINUTE,
    )
  })
})
