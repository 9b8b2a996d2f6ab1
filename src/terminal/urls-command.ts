/**
 * `evotor-partner urls <file>`: the allowed-URL checker on a file of portal patterns and the
 * requests a terminal app makes.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  type AllowedUrlsReport,
  type CheckAllowedUrlsInput,
  checkAllowedUrls,
  type TerminalRequest,
} from './allowed-urls.js'

/** Where the command writes. */
export interface CommandIO {
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
}

export const URLS_USAGE = `Usage: evotor-partner urls <file> [--json]
       evotor-partner urls --pattern <regex> --url <url> [--pattern …] [--url …]

Checks the URLs a terminal app calls against the allowed-URL patterns of the Evotor developer
portal, read as the portal reads them (Java regular expressions; the whole URL must match), and
the terminal's rules: ports 80/443 only, no WebSocket, GET/POST/PUT/DELETE, the guaranteed media
types, no reserved headers (X-Device-*, X-Evotor-*, Host, …).

File format (a .json file may instead hold {"patterns": [...], "requests": [...]}):
  [patterns]
  https://partner\\.example\\.com/api/.*      one pattern per line, exactly as on the portal
  [requests]
  https://partner.example.com/api/items     a GET
  POST https://partner.example.com/api/orders
    Content-Type: application/json          indented lines: headers the app sets
  Lines starting with # are comments; surrounding spaces are ignored.

Options:
  --pattern <regex>   a pattern (repeatable; added to the file's)
  --url <url>         a GET request (repeatable; added to the file's)
  --json              print the report as JSON
  -h, --help          show this help

Exit code: 0 when every pattern is valid and every request is allowed, 1 when a pattern is
refused or a request is not allowed, 2 on a usage error (or an unreadable file).
`

class UsageError extends Error {}

const METHOD_LINE = /^([A-Za-z]+)\s+(\S+)$/

/** Parses the text format of {@link URLS_USAGE}. */
export function parseUrlsFile(text: string): CheckAllowedUrlsInput {
  const patterns: string[] = []
  const requests: TerminalRequest[] = []
  let section: 'patterns' | 'requests' | undefined
  let current: (TerminalRequest & { headers: Record<string, string> }) | undefined
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const where = `line ${index + 1}`
    if (/^\[(patterns|requests)\]$/i.test(line)) {
      section = line.slice(1, -1).toLowerCase() as 'patterns' | 'requests'
      current = undefined
      return
    }
    if (section === undefined) throw new UsageError(`${where}: expected [patterns] or [requests] first`)
    if (section === 'patterns') {
      patterns.push(line)
      return
    }
    if (/^\s/.test(raw)) {
      if (current === undefined) throw new UsageError(`${where}: a header line needs a request line above it`)
      const colon = line.indexOf(':')
      if (colon <= 0) throw new UsageError(`${where}: expected "Name: value"`)
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      current.headers[name] = value
      if (name.toLowerCase() === 'content-type') current.contentType = value
      return
    }
    const match = METHOD_LINE.exec(line)
    current = match === null ? { url: line, headers: {} } : { method: match[1]!, url: match[2]!, headers: {} }
    requests.push(current)
  })
  return { patterns, requests }
}

function parseJsonFile(text: string): CheckAllowedUrlsInput {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError('the .json file is not valid JSON')
  }
  const input = value as Partial<CheckAllowedUrlsInput> | null
  if (!Array.isArray(input?.patterns) || !input.patterns.every((p) => typeof p === 'string')) {
    throw new UsageError('the .json file needs "patterns": an array of strings')
  }
  const requests = input.requests ?? []
  if (!Array.isArray(requests)) throw new UsageError('"requests" must be an array')
  for (const request of requests) {
    if (typeof request !== 'string' && typeof (request as TerminalRequest | null)?.url !== 'string') {
      throw new UsageError('each request is a URL string or {"url", "method", "contentType", "headers"}')
    }
  }
  return { patterns: input.patterns, requests }
}

/** Verbatim, except that line breaks and other control characters are shown escaped. */
const show = (text: string): string =>
  text.replace(
    /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )

/** The human-readable report. */
export function renderUrlsReport(report: AllowedUrlsReport): string {
  const lines: string[] = ['Patterns']
  for (const pattern of report.patterns) {
    const mark = pattern.status === 'ok' ? '✓' : '✗'
    lines.push(`  ${mark} ${show(pattern.pattern)}`)
    if (pattern.error !== undefined) {
      lines.push(`      ${pattern.status} at ${pattern.error.index}: ${pattern.error.message}`)
    }
    for (const note of pattern.notes) lines.push(`      ! ${note.kind} at ${note.index}: ${note.message}`)
  }
  lines.push('', 'Requests')
  for (const request of report.requests) {
    lines.push(`  ${request.ok ? '✓' : '✗'} ${request.method} ${show(request.url)}`)
    if (request.matchedPattern !== undefined) lines.push(`      allowed by ${show(request.matchedPattern)}`)
    for (const problem of request.problems) lines.push(`      ${problem.severity}: ${problem.message}`)
    for (const miss of request.misses) lines.push(`      - ${show(miss.pattern)}: ${miss.reason}`)
  }
  const refused = report.requests.filter((r) => !r.ok).length
  const bad = report.patterns.filter((p) => p.status !== 'ok').length
  lines.push(
    '',
    `${report.patterns.length} patterns (${bad} refused or unsupported), ${report.requests.length} requests (${refused} not allowed): ${report.ok ? 'PASS' : 'FAIL'}`,
    '',
  )
  return lines.join('\n')
}

async function readInput(
  argv: readonly string[],
): Promise<{ input: CheckAllowedUrlsInput; json: boolean } | 'help'> {
  let parsed: ReturnType<typeof parseUrlsArgs>
  try {
    parsed = parseUrlsArgs(argv)
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`)
  const file = positionals[0]
  let input: CheckAllowedUrlsInput = { patterns: [], requests: [] }
  if (file !== undefined) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    input = file.endsWith('.json') ? parseJsonFile(text) : parseUrlsFile(text)
  }
  const patterns = [...input.patterns, ...(values.pattern ?? [])]
  const requests = [...input.requests, ...(values.url ?? [])]
  if (patterns.length === 0 && requests.length === 0) {
    throw new UsageError('give a file, or --pattern and --url')
  }
  return { input: { patterns, requests }, json: values.json === true }
}

function parseUrlsArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      pattern: { type: 'string', multiple: true },
      url: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

/**
 * Runs `evotor-partner urls` and resolves with its exit code (0 pass, 1 fail, 2 usage).
 *
 * @param argv - The arguments after `urls`.
 * @param io - Where the report and errors go.
 * @returns The exit code.
 */
export async function runUrlsCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  let read: Awaited<ReturnType<typeof readInput>>
  try {
    read = await readInput(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.stderr.write(`evotor-partner urls: ${error.message}\n\n${URLS_USAGE}`)
    return 2
  }
  if (read === 'help') {
    io.stdout.write(URLS_USAGE)
    return 0
  }
  const report = checkAllowedUrls(read.input)
  io.stdout.write(read.json ? `${JSON.stringify(report, null, 2)}\n` : renderUrlsReport(report))
  return report.ok ? 0 : 1
}
