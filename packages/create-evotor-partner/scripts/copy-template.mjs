// Build and prepack step of create-evotor-partner: copies the starter (examples/koa-app) into
// template/ (generated, not in git), without what the starter's .gitignore keeps out, with its
// .gitignore renamed (npm would drop it) and without the repository-only `file:../..` link.
// Refuses to run when this package's version is not the library's: the version the creator pins
// in new projects is its own.
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkgDir = join(here, '..')
const root = join(pkgDir, '..', '..')
const starter = join(root, 'examples', 'koa-app')
const template = join(pkgDir, 'template')

const own = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
const library = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
if (library.name !== 'evotor-partner' || own.version !== library.version) {
  console.error(
    `copy-template: create-evotor-partner ${own.version} must have the library's version (${library.name} ${library.version})`,
  )
  process.exit(1)
}

const skip = new Set(['node_modules', 'data', 'dist', '.env', 'coverage'])
rmSync(template, { recursive: true, force: true })
cpSync(starter, template, {
  recursive: true,
  filter: (source) => {
    const name = basename(source)
    return !skip.has(name) && !/\.sqlite|\.tsbuildinfo$|\.log$/.test(name)
  },
})
if (!existsSync(join(template, '.gitignore'))) {
  console.error('copy-template: examples/koa-app/.gitignore is missing')
  process.exit(1)
}
renameSync(join(template, '.gitignore'), join(template, 'gitignore'))
const pkgPath = join(template, 'package.json')
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'))
pkg.dependencies['evotor-partner'] = library.version
writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`)
console.log(`copy-template: examples/koa-app -> template/ (evotor-partner ${library.version})`)
