/**
 * `evotor-partner/testing`: an Evotor cloud simulator and conformance suite for a partner
 * service written in any language, and builders of realistic Evotor requests for your own tests.
 */

// The one error class, so that every entry point of the package hands out the same EvotorError.
export { EvotorError, isEvotorError } from '../core/evotor-error.js'
export {
  buildAuthorization,
  buildDevices,
  buildDocuments,
  buildEmployees,
  buildInstallationEvent,
  buildProducts,
  buildProxyHeaders,
  buildReceipt,
  buildStores,
  buildSubscriptionEvent,
  buildUserCreate,
  buildUserToken,
  buildUserVerify,
  type DevicePayload,
  type DocumentPayload,
  type EmployeePayload,
  formatEvotorDate,
  type InstallationEventPayload,
  type ProductPayload,
  type ReceiptPayload,
  randomBarcode,
  randomEvotorUuid,
  randomToken,
  randomUserId,
  randomUuid,
  type SoldProduct,
  type StorePayload,
  type SubscriptionEventOptions,
  type SubscriptionEventPayload,
  type SubscriptionEventType,
} from './builders.js'
export {
  buildCloudDevice,
  buildCloudDocument,
  buildCloudEmployee,
  buildCloudProduct,
  buildCloudStore,
} from './cloud-builders.js'
export {
  type CheckResult,
  type CheckStatus,
  CONFORMANCE_CHECK_IDS,
  type ConformanceCheckId,
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceSummary,
  runConformance,
} from './conformance.js'
export {
  createFakeEvotorCloud,
  FAKE_CLOUD_SCOPES,
  type FakeCloudFault,
  type FakeCloudRequest,
  type FakeCloudSeed,
  type FakeEvotorCloud,
  type FakeEvotorCloudOptions,
} from './fake-cloud.js'
export type { CheckRequestRecord, CheckResponseRecord } from './http.js'
export {
  createLocalProxy,
  formatLocalProxyExchange,
  type LocalProxy,
  type LocalProxyExchange,
  type LocalProxyOptions,
  type LocalProxyUser,
} from './local-proxy.js'
export { formatProgress, renderReport } from './report.js'
export {
  DEVICE_TEMPLATE,
  DOCUMENT_TEMPLATE,
  EMPLOYEE_TEMPLATE,
  INSTALLATION_EVENT_TEMPLATE,
  PRODUCT_TEMPLATE,
  RECEIPT_TEMPLATE,
  STORE_TEMPLATE,
  SUBSCRIPTION_EVENT_TEMPLATE,
} from './templates.js'
