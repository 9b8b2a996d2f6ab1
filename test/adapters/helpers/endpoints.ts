import { readFileSync } from 'node:fs'
import type { UserTokens } from '../../../src/core/auth/user-tokens.js'
import type { WebhookDispatcher, WebhookRequest } from '../../../src/core/http-types.js'
import { createEvotorWebhooks } from '../../../src/core/webhooks.js'

const fixture = (path: string): string =>
  readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8')
const STORE = '20170228-F4F1-401B-80FA-9ECCA8451FFB'

/** One webhook endpoint of protocol §6 with a valid delivery and a body missing a required field. */
export interface Endpoint {
  route: string
  method: 'GET' | 'POST' | 'PUT'
  path: string
  credential: 'app' | 'user'
  body: string
  missing: string
  /** `subject` of the first 2002 item for `missing`. */
  subject: string
}

export const ENDPOINTS: readonly Endpoint[] = [
  [
    'userCreate',
    'POST',
    '/api/v1/user/create',
    'app',
    'assembled/partner_v1_user_create.POST.request.json',
    '{}',
    'userId',
  ],
  [
    'userVerify',
    'POST',
    '/api/v1/user/verify',
    'app',
    'assembled/partner_v1_user_verify.POST.request.json',
    '{}',
    'userId',
  ],
  [
    'userToken',
    'POST',
    '/api/v1/user/token',
    'app',
    'assembled/partner_v1_user_token.POST.request.json',
    '{}',
    'userId',
  ],
  ['commodities', 'GET', '/api/v1/commodities?scanCode=4601234567890', 'app', '', '', 'scanCode'],
  [
    'subscriptionEvent',
    'POST',
    '/api/v1/subscription/event',
    'app',
    'assembled/partner_v1_subscription_event.POST.request.SubscriptionCreated.json',
    '{}',
    'type',
  ],
  [
    'installationEvent',
    'POST',
    '/api/v2/installation/event',
    'app',
    'assembled/partner_v2_installation_event.POST.request.ApplicationInstalled.json',
    '{}',
    'type',
  ],
  [
    'stores',
    'PUT',
    '/api/v1/inventories/stores',
    'user',
    'assembled/partner_v1_inventories_stores.PUT.request.json',
    '[{}]',
    '0.uuid',
  ],
  [
    'devices',
    'PUT',
    '/api/v1/inventories/devices',
    'user',
    'assembled/partner_v1_inventories_devices.PUT.request.json',
    '[{}]',
    '0.uuid',
  ],
  [
    'employees',
    'PUT',
    '/api/v1/inventories/employees',
    'user',
    'assembled/partner_v1_inventories_employees.PUT.request.json',
    '[{}]',
    '0.uuid',
  ],
  [
    'products',
    'POST',
    `/api/v1/inventories/stores/${STORE}/products`,
    'user',
    'spec/partner_v1_inventories_stores_storeUuid_products.POST.request.json',
    '[{}]',
    '0.uuid',
  ],
  [
    'documents',
    'PUT',
    `/api/v1/inventories/stores/${STORE}/documents`,
    'user',
    'assembled/partner_v1_inventories_stores_storeUuid_documents.PUT.request.json',
    '[{}]',
    '0.uuid',
  ],
  [
    'receipts',
    'POST',
    '/api/v2/receipts',
    'user',
    'assembled/partner_v2_receipts.POST.request.json',
    '{}',
    'id',
  ],
].map(([route, method, path, credential, file, missing, subject]) => ({
  route,
  method,
  path,
  credential,
  body: file === '' ? '' : fixture(file as string),
  missing,
  subject,
})) as Endpoint[]

/** The real dispatcher with a handler for every route, recording what reached it. */
export function createRecordingWebhooks(tokens: UserTokens): WebhookDispatcher & {
  requests: WebhookRequest[]
  handled: Array<{ route: string; userId: string | undefined }>
} {
  const handled: Array<{ route: string; userId: string | undefined }> = []
  const requests: WebhookRequest[] = []
  const record =
    (answer?: (body: { userId: string }) => unknown) =>
    async (context: { route: string; userId: string | undefined; body: unknown }): Promise<never> => {
      handled.push({ route: context.route, userId: context.userId })
      return answer?.(context.body as { userId: string }) as never
    }
  const webhooks = createEvotorWebhooks({
    appCredential: { bearer: ['app-secret-0123456789'] },
    userTokens: tokens,
    idempotency: false,
    ordering: false,
    handlers: {
      userCreate: record((body) => ({ userId: body.userId, token: 'issued-token' })),
      userVerify: record((body) => ({ userId: body.userId, token: 'issued-token', hasBilling: false })),
      userToken: record(),
      commodities: record(() => ({ name: 'Сидр', measure: 'шт', scanCodes: ['4601234567890'] })),
      subscriptionEvent: record(),
      installationEvent: record(),
      stores: record(),
      devices: record(),
      employees: record(),
      products: record(),
      documents: record(),
      receipts: record(),
    },
  })
  return {
    requests,
    handled,
    matches: (path) => webhooks.matches(path),
    handle(request) {
      requests.push(request)
      return webhooks.handle(request)
    },
  }
}
