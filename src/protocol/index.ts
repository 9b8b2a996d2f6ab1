/**
 * `evotor-partner/protocol`: the wire format of the Evotor cloud's requests to a partner service
 * (protocol §6): the zod schemas, the payload types inferred from them, the route table with its
 * per-route rules, Evotor's error codes and the id and date formats. Pure data, no I/O; the root
 * entry point (`evotor-partner`) serves these routes.
 *
 * @example
 * ```ts
 * import { EVOTOR_ROUTES, StoresSchema, type Store } from 'evotor-partner/protocol'
 * const stores: Store[] = StoresSchema.parse(body)
 * EVOTOR_ROUTES.stores.path // '/api/v1/inventories/stores'
 * ```
 *
 * @module
 */

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
} from './billing.js'
export {
  INSTALLATION_EVENT_TYPES,
  InstallationEventSchema,
  parseTrialPeriodDays,
  SUBSCRIPTION_EVENT_TYPES,
  SubscriptionEventSchema,
} from './billing.js'
export type {
  DocumentV1,
  DocumentV1Transaction,
  DocumentV1Type,
  ReceiptEventV2,
  ReceiptsV2,
  TransactionType,
} from './documents.js'
export { DOCUMENT_V1_TYPES, DocumentsV1Schema, ReceiptsV2Schema, TRANSACTION_TYPES } from './documents.js'
export type { EvotorErrorCode, EvotorErrorCodeInfo } from './errors.js'
export { EVOTOR_ERROR_CODES, isEvotorErrorCode } from './errors.js'
export type { Decimal, EvotorDateTime, EvotorId, EvotorInstant } from './ids.js'
export { isEvotorDateTime, parseEvotorDateTime, parseEvotorInstant, UNKNOWN_TYPE } from './ids.js'
export type {
  CommoditiesQuery,
  Commodity,
  Device,
  Employee,
  Product,
  ProductType,
  Store,
} from './inventory.js'
export {
  CommoditiesQuerySchema,
  CommoditySchema,
  DevicesSchema,
  EMPLOYEE_ROLES,
  EmployeesSchema,
  PRODUCT_TYPES,
  ProductsSchema,
  StoresSchema,
} from './inventory.js'
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
} from './routes.js'
export { EVOTOR_ROUTES, ROUTE_NAMES } from './routes.js'
export type {
  UserCreateRequest,
  UserCreateResponse,
  UserTokenRequest,
  UserVerifyRequest,
  UserVerifyResponse,
} from './user.js'
export {
  UserCreateRequestSchema,
  UserCreateResponseSchema,
  UserTokenRequestSchema,
  UserVerifyRequestSchema,
  UserVerifyResponseSchema,
} from './user.js'
