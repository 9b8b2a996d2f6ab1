/**
 * Payload templates of the conformance suite, copied from the protocol fixtures (test/fixtures:
 * assembled/, spec/, pos-docs/) so the package never reads files at run time. The builders in
 * ./builders.ts clone them and replace every id with a fresh one.
 */

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item)
    Object.freeze(value)
  }
  return value
}

/**
 * Common fields of a subscription event (protocol §6.5). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { SUBSCRIPTION_EVENT_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(SUBSCRIPTION_EVENT_TEMPLATE)
 * ```
 */
export const SUBSCRIPTION_EVENT_TEMPLATE = deepFreeze({
  subscriptionId: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0',
  productId: 'c0d01x35-5193-4cc2-9bfb-be20e0679498',
  userId: '01-000000000000001',
  timestamp: '2017-04-20T18:26:37.753+0000',
  sequenceNumber: 4,
})

/**
 * An installation event (protocol §6.6). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { INSTALLATION_EVENT_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(INSTALLATION_EVENT_TEMPLATE)
 * ```
 */
export const INSTALLATION_EVENT_TEMPLATE = deepFreeze({
  id: 'a99fbf70-6307-4acc-b61c-741ee9eef6c0',
  timestamp: 1504168645290,
  version: 2,
  type: 'ApplicationInstalled',
  data: {
    productId: '1eaca77f-1579-5078-a123-83c892348acd',
    userId: '01-000000000000001',
  },
})

/**
 * One store of `PUT /api/v1/inventories/stores` (protocol §6.7). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { STORE_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(STORE_TEMPLATE)
 * ```
 */
export const STORE_TEMPLATE = deepFreeze({
  uuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
  name: 'Мой магазин',
  address: 'Россия, Москва, Старопанский переулок',
})

/**
 * One terminal of `PUT /api/v1/inventories/devices` (protocol §6.8). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { DEVICE_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(DEVICE_TEMPLATE)
 * ```
 */
export const DEVICE_TEMPLATE = deepFreeze({
  uuid: '20170222-D58C-40E0-8051-B53ADFF38860',
  name: 'Моя касса №3',
  storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB',
  timezoneOffset: 10800000,
})

/**
 * One employee of `PUT /api/v1/inventories/employees` (protocol §6.9). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { EMPLOYEE_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(EMPLOYEE_TEMPLATE)
 * ```
 */
export const EMPLOYEE_TEMPLATE = deepFreeze({
  uuid: '20170222-5670-4067-8017-FF5F40F1A23E',
  name: 'Иван',
  lastName: 'Иванов',
  patronymicName: null,
  phone: 79876543210,
  stores: ['20170222-d58c-40e0-8051-b53adff38860'],
  role: 'CASHIER',
})

/**
 * One product of `POST …/stores/{storeUuid}/products` (protocol §6.10, §9.1). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { PRODUCT_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(PRODUCT_TEMPLATE)
 * ```
 */
export const PRODUCT_TEMPLATE = deepFreeze({
  uuid: '01ba18b6-8707-5f47-3d9c-4db058054cb2',
  code: '6',
  barCodes: ['2000000000060'],
  alcoCodes: ['0000000000000000001'],
  name: 'Сидр',
  price: 123.12,
  quantity: 12,
  costPrice: 100.123,
  measureName: 'шт',
  tax: 'VAT_18',
  allowToSell: true,
  description: 'Вкусный яблочный сидр.',
  articleNumber: 'сид123',
  parentUuid: '1ddea16b-971b-dee5-3798-1b29a7aa2e27',
  group: false,
  type: 'ALCOHOL_NOT_MARKED',
  alcoholByVolume: 5.45,
  alcoholProductKindCode: 123,
  tareVolume: 0.57,
  attributes: {
    ключ1: 'значение1',
    ключ2: 'значение2',
  },
})

/**
 * A SELL document v1 of `PUT …/stores/{storeUuid}/documents` (protocol §6.11, §9.4; pos-docs sample). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { DOCUMENT_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(DOCUMENT_TEMPLATE)
 * ```
 */
export const DOCUMENT_TEMPLATE = deepFreeze({
  type: 'SELL',
  uuid: '175d8ae9-79db-4588-a65a-8f0613e2d0ff',
  extras: {},
  number: 7,
  closeSum: '3548',
  openDate: '2016-09-13T14:32:09.000+0000',
  closeDate: '2016-09-13T14:32:09.000+0000',
  deviceUuid: '5a188de4-49b8-4cb4-800e-eb6b5202437e',
  sessionUUID: '150b9045-ce0f-4ee8-9222-291c6f94ea7b',
  openUserCode: null,
  openUserUuid: '123e4567-e89b-12d3-a456-426655440000',
  transactions: [
    {
      id: '23',
      type: 'DOCUMENT_OPEN',
      uuid: null,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      clientName: null,
      clientPhone: null,
      couponNumber: null,
      creationDate: '2016-09-13T14:32:09.000+0000',
      baseDocumentUUID: null,
      baseDocumentNumber: null,
    },
    {
      id: '24',
      sum: 3548,
      mark: null,
      type: 'REGISTER_POSITION',
      uuid: null,
      price: 3548,
      barcode: null,
      quantity: 1,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      costPrice: 0,
      resultSum: 3548,
      positionId: '-1',
      tareVolume: 0,
      measureName: 'шт',
      extraKeys: [
        {
          identity: '"67e93ebd-c7c1-4fa4-89d4-eaadd15c1829"',
          appId: '9cb441a5-52b2-46fa-b40d-f71bff3eb63e',
          description: 'Мужской отдел',
        },
      ],
      resultPrice: 3548,
      creationDate: '2016-09-13T14:32:09.000+0000',
      commodityCode: '1',
      commodityName: 'bla',
      commodityType: 'NORMAL',
      commodityUuid: '74e99680-3f9b-4abe-b902-fe197cf28ed2',
      fprintSection: '0',
      alcoholByVolume: 0,
      balanceQuantity: 10,
      alcoholProductKindCode: 0,
    },
    {
      id: '25',
      uuid: null,
      type: 'DISCOUNT_POSITION',
      creationDate: '2016-09-13T14:32:09.000+0000',
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      discountSum: 37.5,
      discountType: 1,
      percent: 5,
    },
    {
      id: '26',
      uuid: null,
      type: 'DISCOUNT_DOCUMENT_POSITION',
      creationDate: '2016-09-13T14:32:09.000+0000',
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      clientName: null,
      clientPhone: null,
      couponNumber: 145695,
      discountDocumentSum: 333.02,
      discountPositionPercent: 3,
      discountPositionSum: 21.37,
      discountType: 1,
    },
    {
      id: '27',
      tax: 'NO_VAT',
      type: 'POSITION_TAX',
      uuid: null,
      taxSum: 0,
      barcode: null,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      resultSum: 3548,
      taxPercent: 0,
      resultPrice: 3548,
      taxRateCode: null,
      creationDate: '2016-09-13T14:32:09.000+0000',
      resultTaxSum: 0,
      commodityCode: '1',
      commodityUuid: '74e99680-3f9b-4abe-b902-fe197cf28ed2',
    },
    {
      id: '28',
      rrn: null,
      sum: 3548,
      type: 'PAYMENT',
      uuid: null,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      paymentType: 'CASH',
      creationDate: '2016-09-13T14:32:09.000+0000',
    },
    {
      id: '29',
      uuid: null,
      type: 'DISCOUNT_DOCUMENT',
      creationDate: '2016-09-13T14:32:09.000+0000',
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      clientName: null,
      clientPhone: null,
      couponNumber: 145695,
      discountSum: 333.02,
      discountType: 1,
      percent: 3,
    },
    {
      id: '30',
      rrn: null,
      sum: 0,
      type: 'PAYMENT',
      uuid: null,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      paymentType: 'CASH',
      creationDate: '2016-09-13T14:32:09.000+0000',
    },
    {
      id: '31',
      type: 'DOCUMENT_CLOSE_FPRINT',
      uuid: null,
      total: 3548,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      creationDate: '2016-09-13T14:32:09.000+0000',
      receiptNumber: '71',
      sessionNumber: '0',
      documentNumber: '118',
    },
    {
      id: '32',
      sum: 3548,
      type: 'DOCUMENT_CLOSE',
      uuid: null,
      quantity: 1,
      userCode: null,
      userUuid: '123e4567-e89b-12d3-a456-426655440000',
      clientName: null,
      clientPhone: null,
      couponNumber: null,
      creationDate: '2016-09-13T14:32:09.000+0000',
      baseDocumentUUID: null,
      baseDocumentNumber: null,
    },
  ],
  closeUserCode: null,
  closeUserUuid: '123e4567-e89b-12d3-a456-426655440000',
  sessionNumber: '1',
  closeResultSum: '3548',
})

/**
 * A receipt event of `POST /api/v2/receipts` (protocol §6.12, §9.6). Deeply frozen: clone before changing.
 *
 * @example
 * ```ts
 * import { RECEIPT_TEMPLATE } from 'evotor-partner/testing'
 * const copy = structuredClone(RECEIPT_TEMPLATE)
 * ```
 */
export const RECEIPT_TEMPLATE = deepFreeze({
  id: 'PLACEHOLDER-receipt-event-id',
  timestamp: '1496826444000001',
  userId: '01-000000000000001',
  type: 'PLACEHOLDER-event-type',
  version: 2,
  data: {
    id: '20170222-d58c-40e0-8051-b53adff38860',
    deviceId: '1022722e-9441-4beb-beae-c6bc5e7af30d',
    storeId: '20170928-3176-40EB-80E2-A11F032E282A',
    dateTime: '2017-06-07T12:55:18Z',
    type: 'SELL',
    shiftId: '80',
    employeeId: '20170417-46B8-40B9-802E-4DEB67C07565',
    paymentSource: 'PAY_CASH',
    infoCheck: false,
    egais: false,
    items: [
      {
        id: '01ba18b6-8707-5f47-3d9c-4db058054cb2',
        name: 'Сидр',
        itemType: 'ALCOHOL_NOT_MARKED',
        measureName: 'шт',
        quantity: 1,
        price: 123.12,
        costPrice: 100.123,
        sumPrice: 123.12,
        tax: 18.78,
        taxPercent: 18,
        discount: 0,
      },
    ],
    totalTax: 18.78,
    totalDiscount: 0,
    totalAmount: 123.12,
    extras: {},
  },
})
