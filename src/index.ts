// The public barrel: explicit named exports only.

export type {
  AppCredentialOptions,
  AppCredentialVerifier,
  BasicCredential,
} from './core/auth/app-credential.js'
export { createAppCredentialVerifier } from './core/auth/app-credential.js'
export type {
  ParsedAuthorization,
  ParsedBasicAuthorization,
  ParsedBearerAuthorization,
} from './core/auth/authorization.js'
export { MAX_AUTHORIZATION_LENGTH, parseAuthorization } from './core/auth/authorization.js'
export { timingSafeEqualBytes, timingSafeEqualString } from './core/auth/timing-safe-equal.js'
export type {
  UserTokenLookup,
  UserTokenLookupOptions,
  UserTokenLookupResult,
} from './core/auth/user-token-lookup.js'
export { createUserTokenLookup } from './core/auth/user-token-lookup.js'
export type {
  UserTokenCacheOptions,
  UserTokenVerifier,
  VerifiedUserToken,
} from './core/auth/user-token-verifier.js'
export type { IssuedUserToken, UserTokens, UserTokensOptions } from './core/auth/user-tokens.js'
export { createUserTokens } from './core/auth/user-tokens.js'
export type { EvotorTrpcContext } from './core/evotor-context.js'
export {
  createEvotorTrpcContext,
  getEvotorContext,
  requireEvotorContext,
  setEvotorContext,
} from './core/evotor-context.js'
export type { EvotorErrorBody, EvotorErrorItem, EvotorErrorOptions } from './core/evotor-error.js'
export { EvotorError, isEvotorError } from './core/evotor-error.js'
export type { EvotorHeaderField, EvotorHeaders, ParseEvotorHeadersOptions } from './core/headers.js'
export { EVOTOR_HEADER_NAMES, getHeader, parseEvotorHeaders } from './core/headers.js'
export type { HeadersLike, WebhookDispatcher, WebhookRequest, WebhookResponse } from './core/http-types.js'
export { DEFAULT_BODY_LIMIT } from './core/http-types.js'
export type {
  ClaimResult,
  IdempotencyKeyParams,
  IdempotencyStore,
  IdempotentOutcome,
  MemoryIdempotencyStore,
  MemoryIdempotencyStoreOptions,
  RunIdempotentOptions,
} from './core/idempotency.js'
export { createMemoryIdempotencyStore, idempotencyKeyFor, runIdempotent } from './core/idempotency.js'
export type { EvotorProxy, EvotorProxyContext, EvotorProxyHeader, EvotorProxyOptions } from './core/proxy.js'
export { createEvotorProxy } from './core/proxy.js'
export type {
  FromProxyV1Options,
  ProxyInnerResponse,
  ProxyV1BodyEncoding,
  ProxyV1Envelope,
  ToProxyV1Options,
} from './core/proxy-envelope.js'
export { fromProxyV1, PROXY_V1_CONTENT_TYPE, serializeProxyV1, toProxyV1 } from './core/proxy-envelope.js'
export type {
  MemoryRevocationStoreOptions,
  RevocableVerifier,
  RevocationStore,
} from './core/revocations.js'
export { createMemoryRevocationStore } from './core/revocations.js'
export { parseJsonBody } from './core/safe-json.js'
export type {
  MemorySequenceStoreOptions,
  SequenceOutcome,
  SequenceStore,
  SubscriptionSequencer,
  SubscriptionSequencerOptions,
} from './core/subscription-sequencer.js'
export { createMemorySequenceStore, createSubscriptionSequencer } from './core/subscription-sequencer.js'
export type { ToEvotorValidationErrorOptions } from './core/validation.js'
export { parseIncoming, toEvotorValidationError, validateOutgoing } from './core/validation.js'
export type {
  EvotorWebhookHandlers,
  EvotorWebhooks,
  EvotorWebhooksOptions,
  UnknownEventContext,
  UnknownEventHandler,
  WebhookBody,
  WebhookContext,
  WebhookCredential,
  WebhookHandler,
  WebhookLogger,
} from './core/webhooks.js'
export { createEvotorWebhooks } from './core/webhooks.js'
export type {
  AddonsUpdatedEvent,
  ApplicationInstalledEvent,
  ApplicationUninstalledEvent,
  ChargedSum,
  InstallationEvent,
  InstallationEventType,
  SubscriptionActivatedEvent,
  SubscriptionCreatedEvent,
  SubscriptionEvent,
  SubscriptionEventType,
  SubscriptionRenewedEvent,
  SubscriptionTerminatedEvent,
  SubscriptionTerminationRequestedEvent,
  SubscriptionTermsChangedEvent,
  UnknownInstallationEvent,
  UnknownSubscriptionEvent,
} from './protocol/billing.js'
export {
  INSTALLATION_EVENT_TYPES,
  InstallationEventSchema,
  parseTrialPeriodDays,
  SUBSCRIPTION_EVENT_TYPES,
  SubscriptionEventSchema,
} from './protocol/billing.js'
export type {
  DocumentV1,
  DocumentV1Transaction,
  DocumentV1Type,
  ReceiptEventV2,
  ReceiptsV2,
  TransactionType,
} from './protocol/documents.js'
export {
  DOCUMENT_V1_TYPES,
  DocumentsV1Schema,
  ReceiptsV2Schema,
  TRANSACTION_TYPES,
} from './protocol/documents.js'
export type { EvotorErrorCode, EvotorErrorCodeInfo } from './protocol/errors.js'
export { EVOTOR_ERROR_CODES, isEvotorErrorCode } from './protocol/errors.js'
export type { Decimal, EvotorDateTime, EvotorId, EvotorInstant } from './protocol/ids.js'
export { isEvotorDateTime, parseEvotorDateTime, parseEvotorInstant, UNKNOWN_TYPE } from './protocol/ids.js'
export type {
  CommoditiesQuery,
  Commodity,
  Device,
  Employee,
  Product,
  ProductType,
  Store,
} from './protocol/inventory.js'
export {
  CommoditiesQuerySchema,
  CommoditySchema,
  DevicesSchema,
  EMPLOYEE_ROLES,
  EmployeesSchema,
  PRODUCT_TYPES,
  ProductsSchema,
  StoresSchema,
} from './protocol/inventory.js'
export type {
  EvotorRouteDefinition,
  RouteCredential,
  RouteIdempotency,
  RouteKind,
  RouteName,
  RouteOrdering,
  RouteParams,
  RouteRequest,
  RouteResponse,
} from './protocol/routes.js'
export { EVOTOR_ROUTES, ROUTE_NAMES } from './protocol/routes.js'
export type {
  UserCreateRequest,
  UserCreateResponse,
  UserTokenRequest,
  UserVerifyRequest,
  UserVerifyResponse,
} from './protocol/user.js'
export {
  UserCreateRequestSchema,
  UserCreateResponseSchema,
  UserTokenRequestSchema,
  UserVerifyRequestSchema,
  UserVerifyResponseSchema,
} from './protocol/user.js'
export type {
  AllowedUrlPatternReport,
  AllowedUrlsReport,
  CheckAllowedUrlsInput,
  TerminalRequest,
  TerminalRequestProblem,
  TerminalRequestReport,
} from './terminal/allowed-urls.js'
export {
  checkAllowedUrls,
  isTerminalReservedHeader,
  matchesAllowedUrl,
  TERMINAL_METHODS,
  TERMINAL_RESERVED_HEADERS,
} from './terminal/allowed-urls.js'
export type {
  AllowedUrlPatternIssue,
  AllowedUrlPatternIssueKind,
  CompiledAllowedUrlPattern,
} from './terminal/java-pattern.js'
export { compileAllowedUrlPattern } from './terminal/java-pattern.js'
