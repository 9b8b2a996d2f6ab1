import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { checkAllowedUrls, compileAllowedUrlPattern, matchesAllowedUrl } from '../../src/index.js'
import { isTerminalReservedHeader } from '../../src/terminal/allowed-urls.js'

// Java 17's answers, recorded once with `java` (Pattern.compile, Matcher.matches/find).
interface JavaRow {
  pattern: string
  javaError?: { description: string; index: number }
  urls?: Array<{ url: string; matches: boolean; find: boolean }>
}
const table = JSON.parse(
  readFileSync(new URL('../fixtures/allowed-urls/java17-table.json', import.meta.url), 'utf8'),
) as { javaVersion: string; rows: JavaRow[] }

// Valid Java the checker refuses to guess about (no faithful JavaScript translation).
const UNSUPPORTED = [
  '(?i)https://a\\.b/.*',
  'https://a\\.b/(?i:x)',
  'https://a\\.b/(?x) x',
  'https://a\\.b/[a-z&&[^x]]+',
  'https://a\\.b/[a[0-9]]+',
  'https://a\\.b/x{2}{3}',
  'https://a\\.b/\\p{IsLatin}+',
  'https://a\\.b/\\bx',
  'https://a\\.b/(x)\\1',
  'https://a\\.b/(?<n>x)\\k<n>',
  'https://a\\.b/(?<=/)x',
  'https://a\\.b/[\\S]',
  'https://a\\.b/[\\Qx\\E]',
  'https://a\\.b/\\G',
]

describe('allowed-URL patterns: the Java 17 table', () => {
  it('was produced by Java 17 and covers errors, matches and misses', () => {
    expect(table.javaVersion).toMatch(/^17\./)
    const urls = table.rows.flatMap((row) => row.urls ?? [])
    expect(table.rows.filter((row) => row.javaError !== undefined).length).toBeGreaterThanOrEqual(10)
    expect(urls.filter((u) => u.matches).length).toBeGreaterThan(50)
    expect(urls.filter((u) => !u.matches && u.find).length).toBeGreaterThanOrEqual(8)
  })

  it('refuses exactly the patterns Java refuses, quoting Java', () => {
    for (const row of table.rows) {
      const compiled = compileAllowedUrlPattern(row.pattern)
      if (row.javaError === undefined) {
        if (!compiled.ok)
          expect(compiled.error.kind, `${row.pattern}: ${compiled.error.message}`).toBe('unsupported')
        continue
      }
      expect(compiled.ok, row.pattern).toBe(false)
      if (compiled.ok) continue
      expect(compiled.error.kind, row.pattern).toBe('invalid')
      expect(compiled.error.message).toContain(row.javaError.description)
      expect(compiled.error.message).toMatch(/the portal refuses it/)
    }
  })

  it('answers every URL as Java matches() does, or says it cannot', () => {
    const unsupported: string[] = []
    let answered = 0
    for (const row of table.rows) {
      if (row.urls === undefined) continue
      const compiled = compileAllowedUrlPattern(row.pattern)
      if (!compiled.ok) {
        unsupported.push(row.pattern)
        expect(() => matchesAllowedUrl(row.pattern, 'https://a.b/x')).toThrow(TypeError)
        continue
      }
      for (const { url, matches } of row.urls) {
        expect(compiled.regexp.test(url), `${row.pattern} on ${JSON.stringify(url)}`).toBe(matches)
        expect(matchesAllowedUrl(row.pattern, url)).toBe(matches)
        answered++
      }
    }
    expect(unsupported.sort()).toEqual([...UNSUPPORTED].sort())
    expect(answered).toBeGreaterThan(120)
  })

  it('explains a URL that Java find() accepts but matches() refuses', () => {
    const rows = table.rows.flatMap((row) =>
      (row.urls ?? [])
        .filter((u) => u.find && !u.matches && row.pattern !== '' && compileAllowedUrlPattern(row.pattern).ok)
        .map((u) => ({ pattern: row.pattern, url: u.url })),
    )
    expect(rows.length).toBeGreaterThanOrEqual(6)
    for (const { pattern, url } of rows) {
      const [request] = checkAllowedUrls({ patterns: [pattern], requests: [url] }).requests
      expect(request?.matchedPattern).toBeUndefined()
      expect(request?.misses[0]?.reason, `${pattern} on ${JSON.stringify(url)}`).toMatch(
        /matches only the part .*the portal needs the whole URL to match/s,
      )
    }
  })
})

describe('allowed-URL patterns: generated patterns with Java 17 answers', () => {
  const generated = JSON.parse(
    readFileSync(new URL('../fixtures/allowed-urls/java17-generated.json', import.meta.url), 'utf8'),
  ) as { javaVersion: string; rows: JavaRow[] }

  it('agrees with Java on every generated pattern and string', () => {
    expect(generated.javaVersion).toMatch(/^17\./)
    const disagreements: string[] = []
    let matches = 0
    for (const row of generated.rows) {
      const compiled = compileAllowedUrlPattern(row.pattern)
      if (row.javaError !== undefined) {
        if (compiled.ok || compiled.error.kind !== 'invalid')
          disagreements.push(`${row.pattern}: Java refuses it`)
        continue
      }
      if (!compiled.ok) {
        disagreements.push(`${row.pattern}: ${compiled.error.message}`)
        continue
      }
      for (const { url, matches: java } of row.urls ?? []) {
        if (compiled.regexp.test(url) !== java) disagreements.push(`${row.pattern} on ${JSON.stringify(url)}`)
        if (java) matches++
      }
    }
    expect(disagreements).toEqual([])
    expect(matches).toBeGreaterThan(200)
  })
})

describe('compileAllowedUrlPattern notes', () => {
  const kinds = (pattern: string) =>
    compileAllowedUrlPattern(pattern).notes.map((n) => `${n.kind}@${n.index}: ${n.message}`)

  it('flags \\w and POSIX classes as ASCII-only', () => {
    expect(kinds('https://a\\.b/\\w+')).toEqual([
      expect.stringMatching(/^differs@13: \\w is ASCII-only in Java/),
    ])
    expect(kinds('https://a\\.b/\\p{Alpha}+')).toEqual([
      expect.stringMatching(/^differs@13: \\p\{Alpha\} is US-ASCII only in Java/),
    ])
  })

  it('flags $ before a trailing newline', () => {
    expect(kinds('https://a.b/x$')).toEqual([
      expect.stringMatching(/^differs@13: \$ also matches before a final line terminator/),
    ])
  })

  it('flags the ¶m artefact of the documentation page', () => {
    const pattern = 'http://example\\.com/document.*\\.jsp\\?wildcard=\\*¶m=value.*'
    expect(kinds(pattern)).toEqual([
      expect.stringMatching(/^artefact@\d+: '¶' is how the documentation page renders '&para'/),
    ])
    const report = checkAllowedUrls({
      patterns: [pattern],
      requests: ['http://example.com/document1.jsp?wildcard=*&param=value1'],
    })
    expect(report.ok).toBe(false)
    expect(report.patterns[0]?.notes[0]?.kind).toBe('artefact')
  })

  it('names Java-only syntax it translates', () => {
    expect(kinds('\\Qhttps://a.b\\E/.*')[0]).toMatch(/^java-only@0: \\Q…\\E quoting is Java-only/)
    expect(kinds('https://a\\.b/.*+')[0]).toMatch(/^java-only@\d+: a possessive quantifier/)
    expect(kinds('https://a\\.b/(?>x)')[0]).toMatch(/^java-only@13: an atomic group/)
    expect(kinds('https://a\\.b/.*\\z')[0]).toMatch(/^java-only@15: \\z is Java-only/)
    expect(kinds('https://another\\.host\\.com/.*')).toEqual([])
  })

  it('says what the portal does with an unescaped {', () => {
    const compiled = compileAllowedUrlPattern('https://a\\.b/{id}')
    expect(compiled).toMatchObject({
      ok: false,
      error: {
        kind: 'invalid',
        index: 13,
        message: expect.stringMatching(/Illegal repetition.*the portal refuses it/),
      },
    })
  })

  it('throws TypeError for a non-string pattern', () => {
    expect(() => compileAllowedUrlPattern(42 as unknown as string)).toThrow(
      /compileAllowedUrlPattern: pattern must be a string/,
    )
  })
})

describe('checkAllowedUrls terminal rules', () => {
  const patterns = ['https?://partner\\.example\\.com(:\\d+)?/api/.*', 'wss?://partner\\.example\\.com/.*']

  it('answers each request with the matching pattern', () => {
    const report = checkAllowedUrls({
      patterns,
      requests: [
        'https://partner.example.com/api/items?page=2',
        {
          method: 'post',
          url: 'http://partner.example.com/api/orders',
          contentType: 'application/json; charset=utf-8',
        },
        { method: 'PUT', url: 'https://partner.example.com:443/api/x', contentType: 'image/png' },
      ],
    })
    expect(report.requests.map((r) => [r.method, r.ok, r.matchedPattern, r.problems])).toEqual([
      ['GET', true, patterns[0], []],
      ['POST', true, patterns[0], []],
      ['PUT', true, patterns[0], []],
    ])
    expect(report.ok).toBe(true)
  })

  it('flags ports, WebSocket, methods, media types and reserved headers', () => {
    const report = checkAllowedUrls({
      patterns,
      requests: [
        'https://partner.example.com:8443/api/x',
        'wss://partner.example.com/socket',
        { method: 'PATCH', url: 'https://partner.example.com/api/x' },
        { method: 'POST', url: 'https://partner.example.com/api/x', contentType: 'application/octet-stream' },
        {
          url: 'https://partner.example.com/api/x',
          headers: { 'X-Device-ID': '1', 'X-Evotor-Store-Uuid': 's', 'X-Trace': 't' },
        },
        'partner.example.com/api/x',
      ],
    })
    const rules = report.requests.map((r) => r.problems.map((p) => `${p.severity}:${p.rule}`))
    expect(rules).toEqual([
      ['error:port'],
      ['error:protocol'],
      ['error:method'],
      ['warning:media-type'],
      ['error:reserved-header', 'error:reserved-header'],
      ['error:pattern', 'error:url'],
    ])
    expect(report.requests.map((r) => r.ok)).toEqual([false, false, false, true, false, false])
    expect(report.requests[0]?.problems[0]?.message).toBe(
      'port 8443: terminal apps may only use ports 80 and 443',
    )
    expect(report.requests[4]?.problems[0]?.message).toMatch(/^header X-Device-ID is reserved/)
    expect(report.ok).toBe(false)
  })

  it('says why each pattern misses', () => {
    const report = checkAllowedUrls({
      patterns: ['https://a\\.b/{id}', 'https://a\\.b/x', '(?i)https://a\\.b/.*', 'https://c\\.d/.*'],
      requests: ['https://a.b/xy'],
    })
    expect(report.patterns.map((p) => p.status)).toEqual(['invalid', 'ok', 'unsupported', 'ok'])
    expect(report.requests[0]?.misses.map((m) => m.reason)).toEqual([
      expect.stringMatching(
        /^the pattern is invalid, so it allows nothing: Java rejects this pattern \(Illegal repetition\)/,
      ),
      expect.stringMatching(/^it matches only the part "https:\/\/a\.b\/x"/),
      expect.stringMatching(/^the checker cannot answer for this pattern: an inline flag/),
      'no part of the URL matches it',
    ])
  })

  it('refuses everything without patterns, and throws TypeError on bad input', () => {
    const report = checkAllowedUrls({ patterns: [], requests: ['https://a.b/'] })
    expect(report.requests[0]?.problems[0]?.message).toMatch(/no allowed-URL pattern is configured/)
    expect(() => checkAllowedUrls({ patterns: 'x' as unknown as string[], requests: [] })).toThrow(
      /checkAllowedUrls: patterns must be an array/,
    )
  })

  it('knows the reserved headers', () => {
    expect(
      ['X-Device-ID', 'x-evotor-anything', 'HOST', 'Expect', 'transfer-encoding'].map(
        isTerminalReservedHeader,
      ),
    ).toEqual([true, true, true, true, true])
    expect(['X-Request-Id', 'Authorization', 'Content-Type'].map(isTerminalReservedHeader)).toEqual([
      false,
      false,
      false,
    ])
  })
})
