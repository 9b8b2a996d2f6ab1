/**
 * Cursor paging (evotor-cloud-api.md §1 "Paging"): `{items, paging: {next_cursor}}`, the next page
 * asked for with `?cursor=` alone, an empty `paging` on the last page. One page is held at a time,
 * so memory stays flat over any number of pages.
 */
import type { z } from 'zod'
import { CloudPageSchema } from '../protocol/cloud.js'
import { EvotorApiError } from './errors.js'
import type { CallResult } from './transport.js'

/**
 * One page of a list, with the cursor that fetched it and the cursor of the next one. Persist
 * `nextCursor` to resume later with `{ cursor }`.
 *
 * @example
 * ```ts
 * for await (const page of client.documents.list(storeId, { since }).pages()) {
 *   await save(page.items)
 *   await saveCursor(page.nextCursor)
 * }
 * ```
 */
export interface EvotorPage<T> {
  items: T[]
  /** The cursor this page was fetched with (`undefined` for the first page). */
  cursor: string | undefined
  /** The cursor of the next page; `undefined` on the last page. */
  nextCursor: string | undefined
}

/**
 * A list: iterate it for items, or call `pages()` for whole pages with their cursors.
 *
 * @example
 * ```ts
 * for await (const store of client.stores.list()) console.log(store.name)
 * ```
 */
export interface EvotorList<T> extends AsyncIterable<T> {
  /** Whole pages, each with its cursor, so that a caller can persist where it stopped. */
  pages(): AsyncIterable<EvotorPage<T>>
  /** Every item in one array (for short lists: stores, terminals). */
  toArray(): Promise<T[]>
}

/** @internal Fetches one page: the first with the filters, later ones with `{ cursor }` alone. */
export type PageFetcher = (cursor: string | undefined) => Promise<CallResult>

/** @internal */
export function createList<S extends z.ZodType>(
  schema: S,
  startCursor: string | undefined,
  fetchPage: PageFetcher,
  where: { method: string; path: string },
): EvotorList<z.output<S>> {
  async function* pages(): AsyncGenerator<EvotorPage<z.output<S>>> {
    let cursor = startCursor
    for (;;) {
      const { body, status } = await fetchPage(cursor)
      const items = parsePage(schema, body, status, where)
      yield { items: items.items, cursor, nextCursor: items.next }
      if (items.next === undefined) return
      cursor = items.next
    }
  }
  return {
    pages,
    async *[Symbol.asyncIterator]() {
      for await (const page of pages()) yield* page.items
    },
    async toArray() {
      const all: z.output<S>[] = []
      for await (const page of pages()) all.push(...page.items)
      return all
    },
  }
}

function parsePage<S extends z.ZodType>(
  schema: S,
  body: unknown,
  status: number,
  where: { method: string; path: string },
): { items: z.output<S>[]; next: string | undefined } {
  // A bare array is a whole, unpaged list (older endpoints answer so).
  const page = Array.isArray(body)
    ? { success: true as const, data: { items: body, paging: null } }
    : CloudPageSchema.safeParse(body)
  if (!page.success) throw invalidResponse(status, where, 'not a page of items')
  const items: z.output<S>[] = []
  for (const [index, raw] of page.data.items.entries()) {
    const item = schema.safeParse(raw)
    if (!item.success)
      throw invalidResponse(status, where, `item ${index} does not match the documented shape`)
    items.push(item.data)
  }
  const next = page.data.paging?.next_cursor
  return { items, next: typeof next === 'string' && next !== '' ? next : undefined }
}

/** @internal */
export function invalidResponse(
  status: number,
  where: { method: string; path: string },
  what: string,
): EvotorApiError {
  return new EvotorApiError({
    status,
    code: 'invalid_response',
    method: where.method,
    path: where.path,
    message: `Evotor answered ${where.method} ${where.path} with ${what}`,
    retry: { attempts: 1, waitedMs: 0 },
  })
}
