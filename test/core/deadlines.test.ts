import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeadlineQueue, deadlineQueue } from '../../src/core/deadlines.js'

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('calls each callback once its own deadline has passed, not before', () => {
    const queue = new DeadlineQueue(100)
    const fired: string[] = []
    queue.add(() => fired.push('a'))
    vi.advanceTimersByTime(40)
    queue.add(() => fired.push('b'))
    vi.advanceTimersByTime(59)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['a'])
    vi.advanceTimersByTime(39)
    expect(fired).toEqual(['a'])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['a', 'b'])
    expect(queue.size).toBe(0)
  })

  it('a cancelled deadline never fires, and the next one still fires on time', () => {
    const queue = new DeadlineQueue(100)
    const fired: string[] = []
    const a = queue.add(() => fired.push('a'))
    vi.advanceTimersByTime(50)
    queue.add(() => fired.push('b'))
    queue.cancel(a)
    vi.advanceTimersByTime(99)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['b'])
  })

  it('serves many deadlines with one timer', () => {
    const queue = new DeadlineQueue(1000)
    const fired: number[] = []
    for (let i = 0; i < 50; i++) {
      const entry = queue.add(() => fired.push(i))
      if (i % 2 === 0) queue.cancel(entry)
      vi.advanceTimersByTime(1)
    }
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(1000)
    expect(fired).toEqual(Array.from({ length: 25 }, (_, k) => 2 * k + 1))
  })

  it('keeps serving after a callback throws', () => {
    const queue = new DeadlineQueue(10)
    const fired: string[] = []
    queue.add(() => {
      throw new Error('boom')
    })
    vi.advanceTimersByTime(5)
    queue.add(() => fired.push('after'))
    expect(() => vi.advanceTimersByTime(5)).toThrow('boom')
    vi.advanceTimersByTime(5)
    expect(fired).toEqual(['after'])
  })

  it('shares one queue per length', () => {
    expect(deadlineQueue(1234)).toBe(deadlineQueue(1234))
    expect(deadlineQueue(1234)).not.toBe(deadlineQueue(1235))
  })
})
