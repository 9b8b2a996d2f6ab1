// Packaging checks run by `npm test` after the build: the tarball holds only dist/, README,
// LICENSE and package.json; every entry point loads under require() and import, and
// EvotorError is one class per module format across all entry points (except the pure wire
// format of `./protocol`, which has no runtime classes).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const fail = (message) => {
  console.error(`check-pack: ${message}`)
  process.exit(1)
}

const [pack] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }),
)
const allowed = /^(dist\/.+|README\.md|LICENSE|package\.json)$/
const stray = pack.files.map((f) => f.path).filter((p) => !allowed.test(p))
if (stray.length > 0) fail(`unexpected files in the package: ${stray.join(', ')}`)
if (!pack.files.some((f) => f.path === 'README.md')) fail('README.md is missing from the package')
if (!pack.files.some((f) => f.path === 'LICENSE')) fail('LICENSE is missing from the package')

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json')
const require = createRequire(import.meta.url)
const specifier = (entry) => (entry === '.' ? pkg.name : `${pkg.name}/${entry.slice(2)}`)
// Entry points that are data only: they must load, but carry no EvotorError.
const WITHOUT_ERROR_CLASS = new Set(['./protocol'])

const cjsClasses = new Set()
const esmClasses = new Set()
for (const entry of entries) {
  const cjs = require(specifier(entry))
  const esm = await import(specifier(entry))
  if (WITHOUT_ERROR_CLASS.has(entry)) {
    if (typeof cjs.EVOTOR_ROUTES !== 'object' || esm.EVOTOR_ROUTES?.stores === undefined) {
      fail(`${specifier(entry)} does not export EVOTOR_ROUTES under require() and import`)
    }
    continue
  }
  if (typeof cjs.EvotorError !== 'function') fail(`${specifier(entry)} (require) does not export EvotorError`)
  if (typeof esm.EvotorError !== 'function') fail(`${specifier(entry)} (import) does not export EvotorError`)
  cjsClasses.add(cjs.EvotorError)
  esmClasses.add(esm.EvotorError)
  const fromCjs = new cjs.EvotorError(2001)
  if (!esm.isEvotorError(fromCjs)) fail(`isEvotorError (import) does not recognise a CJS error from ${entry}`)
}
if (cjsClasses.size !== 1) fail(`require() yields ${cjsClasses.size} EvotorError classes across entry points`)
if (esmClasses.size !== 1) fail(`import yields ${esmClasses.size} EvotorError classes across entry points`)
console.log(
  `check-pack: ${pack.files.length} files, ${entries.length} entry points, one EvotorError per format (${process.version})`,
)
