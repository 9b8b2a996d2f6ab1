import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { END, renderRouteTable, START, withRouteTable } from '../scripts/route-table.js'
import { EVOTOR_ROUTES, ROUTE_NAMES } from '../src/protocol/routes.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README route table', () => {
  it('is what scripts/route-table.ts prints from EVOTOR_ROUTES (run it with --write after a change)', () => {
    const start = readme.indexOf(START)
    const end = readme.indexOf(END)
    expect(start).toBeGreaterThan(-1)
    expect(readme.slice(start + START.length, end).trim()).toBe(renderRouteTable())
    expect(withRouteTable(readme)).toBe(readme)
  })

  it('has one row per route, read from the table fields', () => {
    const rows = renderRouteTable().split('\n').slice(2)
    expect(rows).toHaveLength(ROUTE_NAMES.length)
    for (const [i, name] of ROUTE_NAMES.entries()) {
      const row = rows[i] as string
      expect(row.startsWith(`| \`${name}\` |`)).toBe(true)
      expect(row).toContain(EVOTOR_ROUTES[name].method)
    }
    const stores = rows[ROUTE_NAMES.indexOf('stores')] as string
    expect(stores).toContain('none (a full upsert')
    const receipts = rows[ROUTE_NAMES.indexOf('receipts')] as string
    expect(receipts).toContain('`id` of the event')
  })

  it('notices a README that differs from the table', () => {
    const drifted = readme.replace('none (a full upsert: harmless twice)', 'a hash of the body')
    expect(withRouteTable(drifted)).not.toBe(drifted)
    expect(withRouteTable(drifted)).toBe(readme)
  })
})
