/**
 * Whether every database stores `text` as it is: no U+0000 (PostgreSQL's `text` refuses it) and no
 * unpaired surrogate (UTF-8 cannot hold one; it would be stored as U+FFFD). The library refuses
 * such text in webhooks; this app checks its own inputs (tRPC) and invalid events the same way.
 *
 * @example
 * ```ts
 * isStorableText('Сидр') // true
 * isStorableText('a\u0000b') // false
 * ```
 */
export function isStorableText(text: string): boolean {
  return !text.includes('\0') && (text as string & { isWellFormed(): boolean }).isWellFormed()
}
