import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// The README's quick starts are run as written by test/quickstarts/quickstarts.test.ts (packed
// tarball, type check under node16 and bundler, the simulator's 24 checks). What is left here are
// README figures that need no server.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('README figures', () => {
  it('documents the real length of an issued token', async () => {
    const { createUserTokens } = await import('../src/core/auth/user-tokens.js')
    const token = await createUserTokens({ secret: 'readme-secret-0123456789abcdefghijkl' }).issue(
      '01-000000000000001',
    )
    const documented = /\/\/ (\d+) chars of \[A-Za-z0-9_-\]/.exec(readme)?.[1]
    expect(Number(documented)).toBe(token.length)
  })
})
