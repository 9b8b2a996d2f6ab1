/**
 * `evotor-partner/client`: the outbound half, a typed client of the Evotor cloud's REST API v2 and
 * publisher API (stores, terminals, employees, documents, products, groups, bulk tasks, events,
 * push notifications).
 *
 * @module
 */

// The inbound error class too, so that every entry point hands out the same EvotorError.
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export {
  BULK_FINAL_STATUSES,
  type BulkTask,
  BulkTaskSchema,
  CLOUD_DEVICE_MODELS,
  type CloudDevice,
  CloudDeviceSchema,
  type CloudDocument,
  CloudDocumentSchema,
  type CloudEmployee,
  CloudEmployeeSchema,
  type CloudProduct,
  type CloudProductGroup,
  CloudProductGroupSchema,
  type CloudProductInput,
  CloudProductSchema,
  type CloudStore,
  CloudStoreSchema,
  compactForWire,
  type PublisherEvent,
  PublisherEventSchema,
  type PushNotification,
  PushNotificationSchema,
} from '../protocol/cloud.js'
export {
  createEvotorClient,
  type EvotorClient,
  type EvotorClientOptions,
  type EvotorRetryOptions,
} from './client.js'
export {
  EvotorApiError,
  type EvotorApiErrorOptions,
  type EvotorApiViolation,
  type EvotorClientErrorCode,
  type EvotorRateLimit,
  type EvotorRetryInfo,
  type EvotorTokenKind,
  isEvotorApiError,
} from './errors.js'
export type { EvotorList, EvotorPage } from './paging.js'
export type {
  EvotorBulkWaitOptions,
  EvotorCallOptions,
  EvotorCatalogue,
  EvotorCloudApi,
  EvotorDocumentListOptions,
  EvotorEventListOptions,
  EvotorListOptions,
  EvotorPublisherApi,
  EvotorPushInput,
} from './resources.js'
export type { EvotorClientClock, EvotorClientLogger } from './transport.js'
