import { describe, expect, test } from 'vitest'
import type { AbortError } from '../../../src/errors.js'
import { RateLimitError } from '../../../src/http/errors.js'
import { stopOnStatusLayer } from '../../../src/http/layers/stop-on-status.js'
import { answer, scripted, testCall, testManyCall } from './fixtures.js'

describe('stop-on-status layer', () => {
  test('an answer in stopOn stops the call with a typed reason; the answer goes on up', async () => {
    const many = testManyCall([401])
    const { call } = testCall({ many })
    expect((await stopOnStatusLayer(scripted([answer(401)]))(call)).status).toBe(401)
    const reason = many.stop.signal.reason as AbortError
    expect(reason.stop).toEqual({
      code: 'STOP_ON_STATUS',
      status: 401,
      detail: 'GET https://api.test/items answered 401, which is in stopOn',
    })
    expect(reason.message).toBe(`Stopped: ${reason.stop!.detail}`)
  })

  test('other statuses do not stop; the first stop reason stays', async () => {
    const many = testManyCall([401, 403])
    const { call } = testCall({ many })
    await stopOnStatusLayer(scripted([answer(500)]))(call)
    expect(many.stop.signal.aborted).toBe(false)
    await stopOnStatusLayer(scripted([answer(403)]))(call)
    await stopOnStatusLayer(scripted([answer(401)]))(call)
    expect((many.stop.signal.reason as AbortError).stop).toMatchObject({ status: 403 })
  })

  test('a refusal turned into an error by the layers below stops by its status', async () => {
    const many = testManyCall([429])
    const { call } = testCall({ many })
    const refused = new RateLimitError({ method: 'GET', url: 'u', attempts: 1, ms: 0, status: 429 })
    await expect(stopOnStatusLayer(scripted([refused]))(call)).rejects.toBe(refused)
    expect((many.stop.signal.reason as AbortError).stop).toMatchObject({
      code: 'STOP_ON_STATUS',
      status: 429,
    })
  })

  test('a request outside an all/stream/group call passes straight through', async () => {
    const { call } = testCall()
    expect((await stopOnStatusLayer(scripted([answer(401)]))(call)).status).toBe(401)
  })
})
