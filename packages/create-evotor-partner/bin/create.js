#!/usr/bin/env node
// `npm create evotor-partner <folder>`: writes the evotor-partner starter (the repository's
// examples/koa-app, shipped in template/) into a new folder, with `evotor-partner` pinned to the
// version this creator was released with. Never writes into a folder that has anything in it.
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const templateDir = join(here, '..', 'template')
const own = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'))

const USAGE = `Usage: npm create evotor-partner <folder>
       npx create-evotor-partner <folder>

Writes a new Evotor partner service (Koa, tRPC, SQLite or PostgreSQL, built on evotor-partner
${own.version}) into <folder>, which must not exist yet or be empty.`

function fail(message, code = 1) {
  process.stderr.write(`create-evotor-partner: ${message}\n`)
  process.exit(code)
}

const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`${own.version}\n`)
  process.exit(0)
}
const positional = args.filter((a) => !a.startsWith('-'))
if (positional.length !== 1 || args.length !== 1) fail(`give one folder name.\n\n${USAGE}`)

const target = resolve(process.cwd(), positional[0])
const shown = relative(process.cwd(), target) || '.'
if (existsSync(target)) {
  if (!statSync(target).isDirectory()) fail(`${shown} exists and is not a folder; nothing was written.`)
  if (readdirSync(target).length > 0)
    fail(`${shown} is not empty; nothing was written. Choose a new folder name, or empty it first.`)
}
if (!existsSync(join(templateDir, 'package.json')))
  fail('this copy of create-evotor-partner has no template (it is made when the package is packed).')

cpSync(templateDir, target, { recursive: true, errorOnExist: true, force: false })
// npm never publishes a file named .gitignore: the template ships it as `gitignore`.
if (existsSync(join(target, 'gitignore'))) renameSync(join(target, 'gitignore'), join(target, '.gitignore'))

const pkgPath = join(target, 'package.json')
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'))
const name = basename(target)
  .toLowerCase()
  .replace(/[^a-z0-9._~-]+/g, '-')
  .replace(/^[._-]+|-+$/g, '')
pkg.name = name || 'evotor-partner-service'
pkg.version = '0.1.0'
pkg.dependencies = { ...pkg.dependencies, 'evotor-partner': own.version }
writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`)

const cd = /\s/.test(shown) ? `cd "${shown}"` : `cd ${shown}`
process.stdout.write(
  `Created an Evotor partner service in ${shown} (evotor-partner ${own.version}).\n\n` +
    `Next:\n  ${cd}\n  npm install && npm start\n\n` +
    'Then see README.md there: the app credential it prints, the curl walkthrough, npm test.\n',
)
