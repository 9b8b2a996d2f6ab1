const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i

/**
 * Converts an Evotor date-time to an ISO-8601 UTC string (`Date#toISOString` form), so stored
 * values compare lexicographically. Accepts `2017-01-10T09:33:19.757+0000` (offset without a
 * colon, protocol §5.2), `…Z`, `…+03:00`, and epoch numbers or numeric strings
 * (milliseconds if ≥ 10^12, else seconds; protocol §11 A17) and `Date` objects. Without an
 * offset, UTC is assumed.
 *
 * @example
 * ```ts
 * toIsoUtc('2017-04-20T18:26:37.753+0000') // '2017-04-20T18:26:37.753Z'
 * toIsoUtc(1504168645290) // '2017-08-31T08:37:25.290Z'
 * ```
 */
export function toIsoUtc(value: unknown): string | undefined {
  if (value instanceof Date) return fromEpoch(value.getTime())
  if (typeof value === 'number') return fromEpoch(value)
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return fromEpoch(Number(text.length > 13 ? text.slice(0, 13) : text))
  const m = ISO.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, offset] = m
  const ms = Number((frac ?? '0').padEnd(3, '0').slice(0, 3))
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? '0'), ms)
  if (offset && offset.toUpperCase() !== 'Z') {
    const digits = offset.replace(':', '')
    const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))
    time -= (digits.startsWith('-') ? -1 : 1) * minutes * 60_000
  }
  return fromEpoch(time)
}

function fromEpoch(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined
  const ms = value >= 1e12 ? value : value * 1000
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}
