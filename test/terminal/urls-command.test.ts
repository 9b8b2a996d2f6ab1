import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'evotor-urls-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

async function cli(argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  })
  return { code, stdout, stderr }
}

const GOOD = `# allowed URLs of the app, as on the portal
[patterns]
https://partner\\.example\\.com/api/.*

[requests]
https://partner.example.com/api/items?page=2
POST https://partner.example.com/api/orders
  Content-Type: application/json
`

const BAD = `[patterns]
https://another\\.host\\.com/document.*\\.jsp
http://example\\.com/document.*\\.jsp\\?wildcard=\\*¶m=value.*
https://a\\.b/{id}

[requests]
https://another.host.com/document1.jsp?x=1
PUT https://another.host.com:8080/document1.jsp
  X-Device-ID: 42
`

describe('evotor-partner urls', () => {
  it('exits 0 when every request is allowed, naming the pattern', async () => {
    const run = await cli(['urls', file('good.txt', GOOD)])
    expect(run.stdout).toContain('  ✓ GET https://partner.example.com/api/items?page=2')
    expect(run.stdout).toContain('  ✓ POST https://partner.example.com/api/orders')
    expect(run.stdout).toContain('      allowed by https://partner\\.example\\.com/api/.*')
    expect(run.stdout).toMatch(/1 patterns \(0 refused or unsupported\), 2 requests \(0 not allowed\): PASS/)
    expect(run.code).toBe(0)
  })

  it('exits 1 and says why, for a partial match, the ¶m artefact, a { and the terminal rules', async () => {
    const run = await cli(['urls', file('bad.txt', BAD)])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('  ✗ https://a\\.b/{id}')
    expect(run.stdout).toMatch(
      / {6}invalid at 13: Java rejects this pattern \(Illegal repetition\): the portal refuses it/,
    )
    expect(run.stdout).toMatch(/! artefact at \d+: '¶' is how the documentation page renders '&para'/)
    expect(run.stdout).toMatch(
      /- https:\/\/another\\\.host\\\.com\/document\.\*\\\.jsp: it matches only the part "https:\/\/another\.host\.com\/document1\.jsp": the portal needs the whole URL to match/,
    )
    expect(run.stdout).toContain('error: port 8080: terminal apps may only use ports 80 and 443')
    expect(run.stdout).toMatch(/error: header X-Device-ID is reserved/)
    expect(run.stdout).toMatch(/3 patterns \(1 refused or unsupported\), 2 requests \(2 not allowed\): FAIL/)
  })

  it('reads a .json file and prints JSON', async () => {
    const path = file(
      'urls.json',
      JSON.stringify({
        patterns: ['https://a\\.b/.*'],
        requests: ['https://a.b/x', { method: 'DELETE', url: 'https://a.b/y' }],
      }),
    )
    const run = await cli(['urls', path, '--json'])
    const report = JSON.parse(run.stdout) as {
      ok: boolean
      requests: Array<{ method: string; matchedPattern: string }>
    }
    expect(report.ok).toBe(true)
    expect(report.requests.map((r) => [r.method, r.matchedPattern])).toEqual([
      ['GET', 'https://a\\.b/.*'],
      ['DELETE', 'https://a\\.b/.*'],
    ])
    expect(run.code).toBe(0)
  })

  it('takes --pattern and --url without a file', async () => {
    const run = await cli(['urls', '--pattern', 'https://a\\.b/x', '--url', 'https://a.b/xy'])
    expect(run.stdout).toMatch(/it matches only the part "https:\/\/a\.b\/x"/)
    expect(run.code).toBe(1)
  })

  it.each([
    [[], /give a file, or --pattern and --url/],
    [[join(dir, 'missing.txt')], /cannot read .*missing\.txt: ENOENT/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['a', 'b'], /unexpected argument "b"/],
  ])('exits 2 on a usage error %#', async (args, message) => {
    const run = await cli(['urls', ...args])
    expect(run.stderr).toMatch(message)
    expect(run.stderr).toContain('Usage: evotor-partner urls <file>')
    expect(run.code).toBe(2)
  })

  it.each([
    ['https://a.b/\n', /line 1: expected \[patterns\] or \[requests\] first/],
    ['[requests]\n  Content-Type: text/plain\n', /line 2: a header line needs a request line above it/],
    ['[requests]\nhttps://a.b/\n  no colon\n', /line 3: expected "Name: value"/],
    ['{"patterns": "x"}', /"patterns": an array of strings/],
  ])('exits 2 on a malformed file %#', async (text, message) => {
    const run = await cli(['urls', file(text.startsWith('{') ? 'bad.json' : 'malformed.txt', text)])
    expect(run.stderr).toMatch(message)
    expect(run.code).toBe(2)
  })

  it('prints its help with exit 0', async () => {
    const run = await cli(['urls', '--help'])
    expect(run.stdout).toContain('Exit code: 0 when every pattern is valid')
    expect(run.code).toBe(0)
  })

  it('sets the exit code of the real bin', async () => {
    const cliPath = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
    const exec = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', cliPath, 'urls', ...args]).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      )
    const [good, bad, usage] = await Promise.all([
      exec([join(dir, 'good.txt')]),
      exec([join(dir, 'bad.txt')]),
      exec([join(dir, 'nothing-here.txt')]),
    ])
    expect([good.code, bad.code, usage.code]).toEqual([0, 1, 2])
    expect(good.stdout).toMatch(/PASS/)
  })
})
