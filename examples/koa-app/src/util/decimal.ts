const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/
const DECIMAL_INPUT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,10}))?$/

/**
 * Digits (integer plus fraction) a normalised decimal may have. Any finite JSON number fits
 * (the widest, `5e-324`, expands to 324 fraction digits); a longer numeric string is refused
 * rather than kept, so that a hostile `"1e-100000"` cannot make sums work on huge numbers.
 */
export const MAX_DECIMAL_DIGITS = 1000

/**
 * Normalises an incoming money or quantity value (a JSON number or a numeric string, protocol
 * §11 A30) to a plain decimal string EXACTLY: no float arithmetic, no rounding. Exponent
 * notation (`1.5e3`, a JSON number printed as `1e+21`) is expanded, redundant leading zeros and
 * a `+` sign are dropped, the fraction digits are kept as received (trailing zeros are dropped
 * only when the value would otherwise not fit). Returns `undefined` for anything that is not a
 * finite decimal, or whose digits do not fit in {@link MAX_DECIMAL_DIGITS}.
 *
 * @param value - the received value (`number | string`), anything else gives `undefined`
 * @returns the decimal string, e.g. `'-12.50'`, or `undefined`
 * @example
 * ```ts
 * toDecimalString(123.12) // '123.12'
 * toDecimalString(' 0.10 ') // '0.10'
 * toDecimalString('12345678901234567890.123456789') // '12345678901234567890.123456789'
 * toDecimalString('1.5e3') // '1500'
 * toDecimalString('abc') // undefined
 * ```
 */
export function toDecimalString(value: unknown): string | undefined {
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined
    text = String(value)
  } else if (typeof value === 'string') {
    text = value.trim()
  } else {
    return undefined
  }
  const match = DECIMAL_INPUT.exec(text)
  if (!match) return undefined
  const negative = match[1] === '-'
  let whole = match[2] ?? ''
  let fraction = match[3] ?? ''
  if (whole === '' && fraction === '') return undefined
  if (match[4] !== undefined && Number(match[4]) !== 0) {
    const shifted = shift(whole + fraction, whole.length + Number(match[4]))
    if (shifted === undefined) return undefined
    ;[whole, fraction] = shifted
  }
  whole = whole.replace(/^0+(?=\d)/, '') || '0'
  if (whole.length + fraction.length > MAX_DECIMAL_DIGITS) {
    fraction = fraction.replace(/0+$/, '')
    if (whole.length + fraction.length > MAX_DECIMAL_DIGITS) return undefined
  }
  const zero = /^0*$/.test(whole) && /^0*$/.test(fraction)
  return `${negative && !zero ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`
}

/** `digits` with the decimal point after `point` of them (negative: zeros before), bounded. */
function shift(digits: string, point: number): [string, string] | undefined {
  const significant = digits.replace(/^0+/, '')
  if (significant === '') return ['0', '']
  const at = point - (digits.length - significant.length)
  const body = significant.replace(/0+$/, '')
  // Check the size before building any string: the exponent may be ten digits long.
  if (at > MAX_DECIMAL_DIGITS || body.length - at > MAX_DECIMAL_DIGITS) return undefined
  if (at <= 0) return ['0', '0'.repeat(-at) + body]
  if (at >= body.length) return [body + '0'.repeat(at - body.length), '']
  return [body.slice(0, at), body.slice(at)]
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
  // A loop, not Math.max(...spread): a day can hold more receipts than a call has arguments.
  let scale = minScale
  for (const p of parsed) if (p.scale > scale) scale = p.scale
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
