// Type-checks many one-file projects in one process: `node typecheck.mjs <typescript.js>` reads
// `[{ id, file, compilerOptions }]` as JSON on stdin and prints `{ [id]: diagnostics }` ('' when
// clean). Each project is its own Program (its own options and module resolution, as a separate
// `tsc -p` would be); parsed source files are shared between them, which makes a dozen checks cost
// little more than one.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const ts = createRequire(import.meta.url)(process.argv[2])
const jobs = JSON.parse(readFileSync(0, 'utf8'))

const cache = new Map()
const results = {}
for (const job of jobs) {
  const converted = ts.convertCompilerOptionsFromJson(job.compilerOptions, process.cwd())
  if (converted.errors.length > 0) throw new Error(ts.formatDiagnostics(converted.errors, formatHost()))
  const options = converted.options
  const host = ts.createCompilerHost(options, true)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
    const settings =
      typeof languageVersionOrOptions === 'object'
        ? `${languageVersionOrOptions.languageVersion}:${languageVersionOrOptions.impliedNodeFormat}`
        : String(languageVersionOrOptions)
    // The project's own file is never shared: it is the one being checked.
    if (fileName === job.file) return getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreate)
    const key = `${settings}:${fileName}`
    let sourceFile = cache.get(key)
    if (sourceFile === undefined) {
      sourceFile = getSourceFile(fileName, languageVersionOrOptions, onError, shouldCreate)
      if (sourceFile !== undefined) cache.set(key, sourceFile)
    }
    return sourceFile
  }
  const program = ts.createProgram({ rootNames: [job.file], options, host })
  const diagnostics = ts.getPreEmitDiagnostics(program)
  results[job.id] = diagnostics.length === 0 ? '' : ts.formatDiagnostics(diagnostics, formatHost())
}
process.stdout.write(JSON.stringify(results))

function formatHost() {
  return {
    getCanonicalFileName: (fileName) => fileName,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  }
}
