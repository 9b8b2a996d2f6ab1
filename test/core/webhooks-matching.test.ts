import { describe, expect, it } from 'vitest'
import { createRouteMatcher } from '../../src/core/webhooks/matching.js'

describe('route matcher', () => {
  it('answers each path right when paths alternate (the last answer is reused only for the same path)', () => {
    const matcher = createRouteMatcher({ handlers: {} } as never)
    const products = '/api/v1/inventories/stores/20170228-F4F1-401B-80FA-9ECCA8451FFB/products'
    for (let i = 0; i < 3; i++) {
      expect(matcher.find('/api/v2/receipts')).toEqual([{ name: 'receipts', storeUuid: undefined }])
      expect(matcher.find('/api/v2/receipts')).toEqual([{ name: 'receipts', storeUuid: undefined }])
      expect(matcher.find(products)).toEqual([
        { name: 'products', storeUuid: '20170228-F4F1-401B-80FA-9ECCA8451FFB' },
      ])
      expect(matcher.find('/nothing')).toEqual([])
      expect(matcher.find('/api/v2/receipts/')).toEqual([{ name: 'receipts', storeUuid: undefined }])
    }
  })

  it('keeps matchers apart (each its own base path)', () => {
    const a = createRouteMatcher({ handlers: {}, basePath: '/a' } as never)
    const b = createRouteMatcher({ handlers: {}, basePath: '/b' } as never)
    expect(a.find('/a/api/v2/receipts')).toHaveLength(1)
    expect(b.find('/a/api/v2/receipts')).toHaveLength(0)
    expect(a.find('/a/api/v2/receipts')).toHaveLength(1)
  })
})
