import { describe, expect, it } from 'vitest'
import { hashPassword, needsRehash, verifyPassword } from '../src/passwords.js'

const FAST = { N: 1024, r: 8, p: 1 }

describe('passwords', () => {
  it('hashes with a per-password salt and self-describing parameters', async () => {
    const a = await hashPassword('superpassword', FAST)
    const b = await hashPassword('superpassword', FAST)
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/)
    expect(a).not.toBe(b)
    expect(a).not.toContain('superpassword')
  })

  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hashPassword('superpassword', FAST)
    expect(await verifyPassword('superpassword', hash)).toBe(true)
    expect(await verifyPassword('superpassworD', hash)).toBe(false)
    expect(await verifyPassword('', hash)).toBe(false)
  })

  it('normalises Unicode so composed and decomposed input match', async () => {
    const hash = await hashPassword('пароль\u0439', FAST) // й precomposed
    expect(await verifyPassword('пароль\u0438\u0306', hash)).toBe(true) // и + combining breve
  })

  it('verifies with the default parameters', async () => {
    const hash = await hashPassword('default-params')
    expect(hash.startsWith('scrypt$32768$8$1$')).toBe(true)
    expect(await verifyPassword('default-params', hash)).toBe(true)
  })

  it('answers false for absent, malformed or out-of-range hashes', async () => {
    expect(await verifyPassword('x', undefined)).toBe(false)
    expect(await verifyPassword('x', null)).toBe(false)
    expect(await verifyPassword('x', 'plain-text')).toBe(false)
    const hash = await hashPassword('x', FAST)
    expect(await verifyPassword('x', hash.replace('$1024$', '$1000$'))).toBe(false)
    expect(await verifyPassword('x', hash.replace('$1024$', `$${2 ** 30}$`))).toBe(false)
  })

  it('rejects empty passwords and bad parameters when hashing', async () => {
    await expect(hashPassword('')).rejects.toThrow(TypeError)
    await expect(hashPassword('x', { N: 1000, r: 8, p: 1 })).rejects.toThrow(/params/)
  })

  it('needsRehash flags weaker parameters', async () => {
    const weak = await hashPassword('x', FAST)
    expect(needsRehash(weak)).toBe(true)
    expect(needsRehash(weak, FAST)).toBe(false)
    expect(needsRehash('garbage')).toBe(true)
  })
})
