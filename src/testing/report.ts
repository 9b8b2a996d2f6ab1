import type { CheckResult, CheckStatus, ConformanceReport } from './conformance.js'

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '-', blocked: '⊘' }

/**
 * One progress line for a finished check, e.g. `✓ user.create  42 ms`.
 *
 * @example
 * ```ts
 * await runConformance({ baseUrl, appToken, onProgress: (r) => process.stderr.write(`${formatProgress(r)}\n`) })
 * ```
 */
export function formatProgress(result: CheckResult): string {
  const line = `${MARK[result.status]} ${result.id}  ${result.ms} ms`
  if (result.status === 'pass') return line
  return `${line}  ${result.status === 'skip' ? 'skipped: ' : ''}${result.message}`
}

/**
 * Renders a report as text: a pass/fail table, then for every failure what was sent, what came
 * back and which protocol rule it breaks, then the totals.
 *
 * @example
 * ```ts
 * const report = await runConformance({ baseUrl, appToken })
 * console.log(renderReport(report))
 * ```
 */
export function renderReport(report: ConformanceReport): string {
  const lines: string[] = []
  lines.push(
    `Evotor conformance: ${report.baseUrl}  (proxy ver. ${report.proxyVersion}, user ${report.userId})`,
  )
  for (const notice of report.notices) lines.push(`NOTE: ${notice}`)
  lines.push('')
  const idWidth = Math.max(5, ...report.results.map((r) => r.id.length))
  const msWidth = Math.max(2, ...report.results.map((r) => String(r.ms).length))
  lines.push(`  ${'RESULT'.padEnd(9)} ${'CHECK'.padEnd(idWidth)}  ${'MS'.padStart(msWidth)}  NOTE`)
  for (const r of report.results) {
    const note = r.status === 'pass' ? r.title : r.message
    lines.push(
      `  ${`${MARK[r.status]} ${r.status}`.padEnd(9)} ${r.id.padEnd(idWidth)}  ${String(r.ms).padStart(msWidth)}  ${oneLine(note)}`,
    )
  }
  const failures = report.results.filter((r) => r.status === 'fail')
  if (failures.length > 0) {
    lines.push('', 'Failures:')
    failures.forEach((r, index) => {
      lines.push('', `${index + 1}) ${r.id}: ${r.title}`)
      lines.push(`   rule:    ${r.rule}`)
      if (r.request !== undefined) {
        lines.push(`   sent:    ${r.request.method} ${r.request.path}`)
        for (const [name, value] of Object.entries(r.request.headers))
          lines.push(`            ${name}: ${value}`)
        if (r.request.body !== undefined) lines.push(`            body: ${oneLine(r.request.body)}`)
      }
      if (r.response !== undefined) {
        lines.push(
          `   got:     HTTP ${r.response.status}${r.response.body === '' ? ' (empty body)' : `  ${oneLine(r.response.body)}`}`,
        )
      } else if (r.request !== undefined) {
        lines.push('   got:     no answer')
      }
      lines.push(`   problem: ${oneLine(r.message)}`)
    })
  }
  // Why checks did not run, grouped, so a PASS with skips says what it did not cover.
  const reasons = new Map<string, string[]>()
  for (const r of report.results) {
    if (r.status !== 'skip' && r.status !== 'blocked') continue
    const ids = reasons.get(r.message) ?? []
    ids.push(r.id)
    reasons.set(r.message, ids)
  }
  if (reasons.size > 0) lines.push('')
  for (const [reason, ids] of reasons)
    lines.push(`${ids.length} not run (${ids.join(', ')}): ${oneLine(reason)}`)
  const { total, passed, failed, skipped, blocked } = report.summary
  const verdict = report.ok ? 'PASS' : 'FAIL'
  lines.push(
    '',
    `${total} checks: ${passed} passed, ${failed} failed, ${blocked} blocked, ${skipped} skipped (${report.durationMs} ms): ${verdict}${report.ok && skipped > 0 ? ` with ${skipped} skipped` : ''}`,
  )
  return `${lines.join('\n')}\n`
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}
