import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'

// Runs the README's "fake cloud in your tests" block as written, against the built package
// (`evotor-partner/client` and `/testing` resolve to dist/ by self-reference).
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const block = /<!-- client-example:start -->\s*```ts\n([\s\S]*?)```\s*<!-- client-example:end -->/.exec(
  readme,
)?.[1]
const file = new URL('./.client-example.tmp.ts', import.meta.url)

afterAll(() => rmSync(file, { force: true }))

describe('README example: calling the Evotor cloud', () => {
  it('lists the seeded store through a 429 and pages all documents', async () => {
    if (block === undefined) throw new Error('README client block not found')
    writeFileSync(file, block)
    const mod = (await import(file.href)) as { storeNames: string[]; documentIds: string[] }
    expect(mod.storeNames).toEqual(['Магазин'])
    expect(mod.documentIds).toHaveLength(3)
    expect(new Set(mod.documentIds).size).toBe(3)
  })
})
