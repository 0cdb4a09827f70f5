import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { OwnSignal, SignalFanout } from '../../src/http/signals.js'

describe('SignalFanout', () => {
  it("passes the call's abort to the attempts watching, not to those that have ended", () => {
    const controller = new AbortController()
    const fanout = new SignalFanout(controller.signal)
    const heard: string[] = []
    fanout.watch(() => heard.push('a'))
    const ended = fanout.watch(() => heard.push('b'))
    fanout.watch(() => heard.push('c'))
    fanout.forget(ended)
    expect(fanout.aborted).toBe(false)
    controller.abort(new Error('stop'))
    expect(heard.sort()).toEqual(['a', 'c'])
    expect(fanout.aborted).toBe(true)
    expect((fanout.reason as Error).message).toBe('stop')
  })

  it('puts one listener on the signal, however many attempts watch it', () => {
    const controller = new AbortController()
    const fanout = new SignalFanout(controller.signal)
    for (let i = 0; i < 50; i++) fanout.watch(() => {})
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
  })
})

describe('OwnSignal', () => {
  it("listens on the request's own signal only while the attempt watches it", () => {
    const controller = new AbortController()
    const own = new OwnSignal(controller.signal)
    let heard = 0
    const watching = own.watch(() => heard++)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
    own.forget(watching)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    const again = own.watch(() => heard++)
    controller.abort()
    expect(heard).toBe(1)
    own.forget(again)
  })
})
