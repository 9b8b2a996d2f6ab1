const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/

/** Fraction digits kept by {@link toDecimalString}; more are rounded half away from zero. */
export const MAX_FRACTION_DIGITS = 8

/** Integer digits accepted by {@link toDecimalString} (leading zeros aside). */
export const MAX_INTEGER_DIGITS = 18

/**
 * Normalises an incoming money or quantity value (a JSON number or a numeric string,
 * protocol §11 A30) to a plain decimal string, without float arithmetic. More than
 * {@link MAX_FRACTION_DIGITS} fraction digits are rounded (half away from zero, on the digits),
 * so a hostile `'0.000…1'` cannot make later sums work on huge scales. Returns `undefined` for
 * anything that is not a finite decimal or has more than {@link MAX_INTEGER_DIGITS} integer digits.
 *
 * @example
 * ```ts
 * toDecimalString(123.12) // '123.12'
 * toDecimalString(' 0.10 ') // '0.10'
 * toDecimalString('0.1234567891') // '0.12345679'
 * toDecimalString('abc') // undefined
 * ```
 */
export function toDecimalString(value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined
    const text = String(value)
    if (!/e/i.test(text)) return capDigits(text)
    // Exponent notation only appears for tiny or huge numbers; toFixed gives plain digits below 1e21.
    const fixed = value.toFixed(20)
    return /e/i.test(fixed) ? undefined : capDigits(trimZeros(fixed))
  }
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  const match = DECIMAL.exec(text)
  if (!match || ((match[2] ?? '') === '' && (match[3] ?? '') === '')) return undefined
  return capDigits(text)
}

function capDigits(text: string): string | undefined {
  const match = DECIMAL.exec(text)
  if (!match) return undefined
  const sign = match[1] ?? ''
  const whole = match[2] ?? ''
  const fraction = match[3] ?? ''
  if (whole.replace(/^0+/, '').length > MAX_INTEGER_DIGITS) return undefined
  if (fraction.length <= MAX_FRACTION_DIGITS) return text
  const kept = BigInt((whole || '0') + fraction.slice(0, MAX_FRACTION_DIGITS))
  const rounded = (fraction[MAX_FRACTION_DIGITS] ?? '0') >= '5' ? kept + 1n : kept
  const digits = rounded.toString().padStart(MAX_FRACTION_DIGITS + 1, '0')
  const cut = digits.length - MAX_FRACTION_DIGITS
  const integer = digits.slice(0, cut)
  if (integer.replace(/^0+/, '').length > MAX_INTEGER_DIGITS) return undefined
  const out = `${integer}.${digits.slice(cut)}`
  return rounded === 0n || sign !== '-' ? out : `-${out}`
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text
}

interface Scaled {
  units: bigint
  scale: number
}

function parseScaled(text: string): Scaled {
  const match = DECIMAL.exec(text)
  if (!match) throw new TypeError('not a decimal string')
  const sign = match[1] === '-' ? -1n : 1n
  const whole = match[2] || '0'
  const fraction = match[3] ?? ''
  return { units: sign * BigInt(whole + fraction), scale: fraction.length }
}

/**
 * Adds decimal strings exactly (BigInt over the largest scale present, at least `minScale`
 * digits after the point, 2 by default for kopecks).
 *
 * @example
 * ```ts
 * sumDecimals(['0.1', '0.2']) // '0.30'
 * sumDecimals(['100', '-0.005'], 2) // '99.995'
 * ```
 */
export function sumDecimals(values: readonly string[], minScale = 2): string {
  const parsed = values.map(parseScaled)
  const scale = Math.max(minScale, ...parsed.map((p) => p.scale))
  let total = 0n
  for (const p of parsed) total += p.units * 10n ** BigInt(scale - p.scale)
  const negative = total < 0n
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale)
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`
}

/**
 * Negates a decimal string without float arithmetic.
 *
 * @example
 * ```ts
 * negateDecimal('12.50') // '-12.50'
 * ```
 */
export function negateDecimal(value: string): string {
  if (value.startsWith('-')) return value.slice(1)
  return `-${value.startsWith('+') ? value.slice(1) : value}`
}
