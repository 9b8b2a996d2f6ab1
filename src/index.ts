// The public barrel: explicit named exports only, at most 80 names (test/public-surface.test.ts).
// The wire format (schemas, payload types, the route table, error codes) is `evotor-partner/protocol`.

export type {
  AppCredentialOptions,
  AppCredentialVerifier,
  BasicCredential,
} from './core/auth/app-credential.js'
export { createAppCredentialVerifier } from './core/auth/app-credential.js'
export type { ParsedAuthorization } from './core/auth/authorization.js'
export { parseAuthorization } from './core/auth/authorization.js'
export type {
  UserTokenLookup,
  UserTokenLookupOptions,
  UserTokenLookupResult,
} from './core/auth/user-token-lookup.js'
export { createUserTokenLookup } from './core/auth/user-token-lookup.js'
export type { UserTokenVerifier, VerifiedUserToken } from './core/auth/user-token-verifier.js'
export type { IssuedUserToken, UserTokens, UserTokensOptions } from './core/auth/user-tokens.js'
export { createUserTokens } from './core/auth/user-tokens.js'
export type { EvotorTrpcContext } from './core/evotor-context.js'
export { createEvotorTrpcContext, getEvotorContext, requireEvotorContext } from './core/evotor-context.js'
export type { EvotorErrorBody, EvotorErrorItem, EvotorErrorOptions } from './core/evotor-error.js'
export { EvotorError, isEvotorError } from './core/evotor-error.js'
export type { EvotorHeaderField, EvotorHeaders, ParseEvotorHeadersOptions } from './core/headers.js'
export { EVOTOR_HEADER_NAMES, parseEvotorHeaders } from './core/headers.js'
export type { HeadersLike, WebhookDispatcher, WebhookRequest, WebhookResponse } from './core/http-types.js'
export type { ClaimResult, IdempotencyStore } from './core/idempotency.js'
export type { LoggerInput } from './core/logger.js'
export type { EvotorProxy, EvotorProxyContext, EvotorProxyHeader, EvotorProxyOptions } from './core/proxy.js'
export { createEvotorProxy } from './core/proxy.js'
export type {
  FromProxyV1Options,
  ProxyInnerResponse,
  ProxyV1Envelope,
  ToProxyV1Options,
} from './core/proxy-envelope.js'
export { fromProxyV1, toProxyV1 } from './core/proxy-envelope.js'
export type {
  MemoryRevocationStoreOptions,
  RevocableVerifier,
  RevocationStore,
} from './core/revocations.js'
export { createMemoryRevocationStore } from './core/revocations.js'
export type { SequenceStore } from './core/subscription-sequencer.js'
export { parseIncoming } from './core/validation.js'
export type {
  EvotorWebhookHandlers,
  EvotorWebhooks,
  EvotorWebhooksOptions,
  UnknownEventContext,
  UnknownEventHandler,
  WebhookBody,
  WebhookContext,
  WebhookHandler,
  WebhookLogger,
} from './core/webhooks.js'
export { createEvotorWebhooks } from './core/webhooks.js'
export type {
  AllowedUrlsReport,
  CheckAllowedUrlsInput,
  TerminalRequest,
  TerminalRequestReport,
} from './terminal/allowed-urls.js'
export { checkAllowedUrls, matchesAllowedUrl } from './terminal/allowed-urls.js'
export type { AllowedUrlPatternIssue, CompiledAllowedUrlPattern } from './terminal/java-pattern.js'
export { compileAllowedUrlPattern } from './terminal/java-pattern.js'
