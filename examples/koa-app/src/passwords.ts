import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

/** scrypt cost parameters stored inside every hash string. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number
  r: number
  p: number
}

/** Defaults: 2^15 × 8 × 128 B = 32 MiB per hash, ~50–100 ms on a server core. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 })

const KEY_LENGTH = 32
const SALT_LENGTH = 16
const PREFIX = 'scrypt'
// Bounds for parameters read back from a stored hash, so a tampered row cannot exhaust memory.
const MAX_N = 2 ** 20
const MAX_R = 32
const MAX_P = 16

function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => {
      if (error) reject(error)
      else resolve(key)
    })
  })
}

function validParams(params: ScryptParams): boolean {
  const { N, r, p } = params
  return (
    Number.isInteger(N) &&
    N >= 2 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= MAX_R &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= MAX_P
  )
}

/**
 * Hashes a password with scrypt and a fresh random salt. The result is self-describing:
 * `scrypt$N$r$p$<salt b64url>$<key b64url>`, so parameters can be raised later without
 * invalidating stored hashes. The password is NFC-normalised first (Cyrillic logins and
 * passwords typed on different keyboards).
 *
 * @example
 * ```ts
 * const hash = await hashPassword('superpassword')
 * await verifyPassword('superpassword', hash) // true
 * ```
 */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  if (typeof password !== 'string' || password === '') {
    throw new TypeError('hashPassword: password must be a non-empty string')
  }
  if (!validParams(params)) throw new TypeError('hashPassword: option "params" is out of range')
  const salt = randomBytes(SALT_LENGTH)
  const key = await derive(password, salt, params, KEY_LENGTH)
  return [PREFIX, params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  )
}

interface ParsedHash {
  params: ScryptParams
  salt: Buffer
  key: Buffer
}

function parseHash(hash: string): ParsedHash | undefined {
  const parts = hash.split('$')
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined
  const params = { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) }
  const salt = Buffer.from(parts[4] ?? '', 'base64url')
  const key = Buffer.from(parts[5] ?? '', 'base64url')
  if (!validParams(params) || salt.length < 8 || key.length < 16) return undefined
  return { params, salt, key }
}

let dummy: Promise<string> | undefined

/**
 * Verifies a password against a stored hash in constant time. Pass `undefined` as the hash when
 * the account does not exist: a dummy hash is checked instead so the answer takes as long as for
 * an existing account (no login enumeration by timing). Malformed hashes verify as `false`.
 *
 * @example
 * ```ts
 * const account = accounts.findByLogin(login)
 * const ok = await verifyPassword(password, account?.passwordHash)
 * ```
 */
export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  dummy ??= hashPassword('dummy password for absent accounts')
  const parsed = parseHash(hash ?? (await dummy))
  if (!parsed || typeof password !== 'string') return false
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length)
  return timingSafeEqual(key, parsed.key) && hash !== null && hash !== undefined
}

/**
 * Whether a stored hash uses weaker parameters than `params` (rehash on the next successful login).
 *
 * @example
 * ```ts
 * if (needsRehash(account.passwordHash)) accounts.setPasswordHash(account.id, await hashPassword(password))
 * ```
 */
export function needsRehash(hash: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parseHash(hash)
  if (!parsed) return true
  return parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p
}
