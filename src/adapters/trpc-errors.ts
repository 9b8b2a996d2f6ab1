/** tRPC's error formatting for Evotor services: an `EvotorError` keeps its status and Evotor body, nothing internal leaves. */
import type { TRPCDefaultErrorShape, TRPCError } from '@trpc/server'
import { type EvotorErrorItem, isEvotorError } from '../core/evotor-error.js'

/**
 * The tRPC error shape of {@link evotorErrorFormatter}: tRPC's `message`, `code` and `data` (what
 * tRPC clients read; `data.httpStatus` is the HTTP status), plus Evotor's `errors` for an `EvotorError`.
 * @example `// {"error":{"errors":[{"code":1004,…}],"message":"payment required","code":-32002,"data":{"code":"PAYMENT_REQUIRED","httpStatus":402,"path":"me"}}}`
 */
export interface EvotorTrpcErrorShape {
  /** The Evotor error items, for an `EvotorError` (protocol §5.3). */
  errors?: EvotorErrorItem[]
  /** How many items were left out of `errors`. */
  moreErrors?: number
  /** A safe text: the `EvotorError`'s reason, a `TRPCError`'s own message, `Internal server error` for the rest. */
  message: string
  /** tRPC's JSON-RPC code. */
  code: TRPCDefaultErrorShape['code']
  /** tRPC's code name, the HTTP status and the procedure path; never a stack. */
  data: { code: string; httpStatus: number; path: string | undefined }
}

// tRPC's code names and JSON-RPC codes by HTTP status (tRPC's own table, read from it at build time
// would make `@trpc/server` a runtime import of this entry).
const BY_STATUS: Record<number, readonly [string, number]> = {
  400: ['BAD_REQUEST', -32600],
  401: ['UNAUTHORIZED', -32001],
  402: ['PAYMENT_REQUIRED', -32002],
  403: ['FORBIDDEN', -32003],
  404: ['NOT_FOUND', -32004],
  405: ['METHOD_NOT_SUPPORTED', -32005],
  408: ['TIMEOUT', -32008],
  409: ['CONFLICT', -32009],
  412: ['PRECONDITION_FAILED', -32012],
  413: ['PAYLOAD_TOO_LARGE', -32013],
  415: ['UNSUPPORTED_MEDIA_TYPE', -32015],
  422: ['UNPROCESSABLE_CONTENT', -32022],
  429: ['TOO_MANY_REQUESTS', -32029],
}
const INTERNAL = ['INTERNAL_SERVER_ERROR', -32603] as const

/**
 * tRPC's `errorFormatter` for Evotor services: an `EvotorError` thrown in a procedure answers its own
 * HTTP status (tRPC takes it from `data.httpStatus`) with Evotor's `errors`; an error tRPC wrapped as
 * `INTERNAL_SERVER_ERROR` (a plain `Error`) answers 500 with no message, no stack and no cause, whatever
 * `NODE_ENV` or `isDev` say; a `TRPCError` you threw keeps its code and its own message (not one taken
 * from its `cause`).
 * @param opts - what tRPC passes: its default `shape` and the `error`.
 * @returns the shape sent to the client.
 * @example `const t = initTRPC.context<EvotorTrpcContext>().create({ errorFormatter: evotorErrorFormatter })`
 */
export function evotorErrorFormatter(opts: {
  shape: TRPCDefaultErrorShape
  error: TRPCError
}): EvotorTrpcErrorShape {
  const { shape, error } = opts
  const path = shape.data.path
  const evotor = isEvotorError(error.cause) ? error.cause : isEvotorError(error) ? error : undefined
  if (evotor !== undefined) {
    const [name, code] = BY_STATUS[evotor.status] ?? INTERNAL
    const body = evotor.toBody()
    const message = evotor.reason ?? (evotor.status >= 500 ? 'Internal server error' : 'Evotor error')
    return {
      ...body,
      message,
      code: code as TRPCDefaultErrorShape['code'],
      data: { code: name, httpStatus: evotor.status, path },
    }
  }
  // tRPC wraps anything else as INTERNAL_SERVER_ERROR with the cause's message; a TRPCError built
  // with a `cause` and no message of its own also carries the cause's message.
  const cause = error.cause as { message?: unknown } | undefined
  const fromCause = cause !== undefined && cause.message === error.message
  // A message taken from the cause (an input that fails its schema: BAD_REQUEST with the
  // validator's error) is not shown; the code says what kind of error it is ('Bad request').
  const message =
    error.code === 'INTERNAL_SERVER_ERROR'
      ? 'Internal server error'
      : fromCause
        ? sentenceOf(shape.data.code)
        : shape.message
  return {
    message,
    code: shape.code,
    data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path },
  }
}

/** `'BAD_REQUEST'` -> `'Bad request'`. */
function sentenceOf(code: string): string {
  const words = code.toLowerCase().replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}
