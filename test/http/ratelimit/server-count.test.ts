import { describe, expect, test } from 'vitest'
import type { Counting } from '../../../src/http/ratelimit/model.js'
import { type CountTicket, ServerCounts } from '../../../src/http/ratelimit/server-count.js'

/** GitHub's count as an answer says it: `used` of `limit`, reset (an epoch time) `reset` ms from when it is read. */
const fixed = (
  limit: number,
  used: number,
  reset: number,
  resource = 'core',
  epochReset = true,
): Counting => ({
  kind: 'fixed-window',
  limit,
  used,
  reset,
  resource,
  epochReset,
})
const NONE: CountTicket = new Map()

/** Sends to `path` at `now` (nothing else in flight) and returns the wait that leaves. */
function send(counts: ServerCounts, path: string, now: number): { ticket: CountTicket; wait: number } {
  const ticket = counts.count(path, now, 0)
  return { ticket, wait: counts.wait(ticket, now) }
}

describe('a fixed window (GitHub): what is left until the reset, then the whole limit', () => {
  test('remaining R until the reset said, then L per window: the wait runs to the reset (and its margin)', () => {
    const counts = new ServerCounts()
    // 1 of 5 used, reset 1,000 ms after the answer is read at 10: at 1,010, taken as 1,020 (the
    // window is guessed as 1 s, the smallest usual one that holds the 1,000 ms said: a 10 ms margin).
    expect(counts.observe(NONE, '/items', fixed(5, 1, 1000), 10, 0)).toBe(0)
    expect([20, 21, 22].map((t) => send(counts, '/items', t).wait)).toEqual([0, 0, 0])
    expect(send(counts, '/items', 23).wait).toBe(1020 - 23)
    // At the reset the whole limit is back; the next reset is one window on.
    expect([1020, 1021, 1022, 1023].map((t) => send(counts, '/items', t).wait)).toEqual([0, 0, 0, 0])
    expect(send(counts, '/items', 1024).wait).toBe(2020 - 1024)
  })

  test('an answer older than the last one read is no newer basis; one from a window that has ended changes nothing', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/items', fixed(5, 0, 1000), 0, 0)
    const a = send(counts, '/items', 1).ticket
    const b = send(counts, '/items', 2).ticket
    // b's answer (read first) says 4 used: others use the quota too. a is still in flight and may
    // arrive after b: with it the window is full.
    counts.settle(b)
    expect(counts.observe(b, '/items', fixed(5, 4, 990), 10, 1)).toBe(1010 - 10)
    // a's answer, read later, says 3: it arrived before b, and b's 4 takes it in. One more send fills the window.
    counts.settle(a)
    expect(counts.observe(a, '/items', fixed(5, 3, 989), 11, 0)).toBe(0)
    expect(send(counts, '/items', 12).wait).toBe(1010 - 12)
    // An answer whose reset has passed says nothing of the window now.
    counts.observe(a, '/items', fixed(5, 0, 0), 13, 0)
    expect(counts.wait(a, 14)).toBe(1010 - 14)
  })

  test('a send answered after a later one that arrived first stays counted: its answer says it came after', () => {
    // Seen against a server in its own process, two connections: sends 3 and 4 went out 1 ms apart
    // and 4 arrived first. Its answer (3 used) does not take in send 3, which is the server's 4th.
    const counts = new ServerCounts()
    counts.observe(NONE, '/items', fixed(5, 0, 1000), 0, 0)
    const sends = [1, 2, 3, 4].map((t) => send(counts, '/items', t).ticket)
    for (const [i, used] of [
      [0, 1],
      [1, 2],
    ] as const) {
      counts.settle(sends[i]!)
      counts.observe(sends[i]!, '/items', fixed(5, used, 990), 10 + i, 2 - i)
    }
    counts.settle(sends[3]!)
    expect(counts.observe(sends[3]!, '/items', fixed(5, 3, 985), 15, 1)).toBe(0)
    // One more send, and the window is full: send 3 may still arrive (it does: its answer says 4 used).
    expect(send(counts, '/items', 16).wait).toBe(1010 - 16)
    counts.settle(sends[2]!)
    expect(counts.observe(sends[2]!, '/items', fixed(5, 4, 984), 17, 1)).toBe(1010 - 17)
  })

  test('a newer send that overtook the basis, answered after it, does not lower the count', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/items', fixed(3, 0, 1000), 0, 0)
    const [x, y] = [1, 2].map((t) => send(counts, '/items', t).ticket)
    // y arrived first (1 used), x second (2 used); x's answer is read first: y may still arrive.
    counts.settle(x!)
    expect(counts.observe(x!, '/items', fixed(3, 2, 990), 10, 1)).toBe(1010 - 10)
    counts.settle(y!)
    counts.observe(y!, '/items', fixed(3, 1, 989), 11, 0)
    // The server holds 2 of 3: one more send fills it.
    expect(send(counts, '/items', 12).wait).toBe(1010 - 12)
  })

  test('a send that fails unanswered is counted still until a newer answer stands for it', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/items', fixed(3, 0, 1000), 0, 0)
    const [a, b] = [1, 2].map((t) => send(counts, '/items', t).ticket)
    // a's connection is reset: no answer, yet the server may have counted it.
    counts.settle(a!)
    expect(send(counts, '/items', 3).wait).toBe(1010 - 3)
    // b's answer says 2: it takes a in (or a never arrived); send 3 is still in flight.
    counts.settle(b!)
    expect(counts.observe(b!, '/items', fixed(3, 2, 990), 10, 1)).toBe(1010 - 10)
  })

  test('the sends still in flight when the count is first said are taken as arriving after its answer', () => {
    const counts = new ServerCounts()
    // 2 of 5 used, and 3 sends in flight that no count knew of: full.
    expect(counts.observe(NONE, '/items', fixed(5, 2, 1000), 0, 3)).toBe(1010)
  })

  test('the window is learned from the gap between two resets said, and predicts the one after', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/items', fixed(3, 0, 500), 0, 0)
    const ticket = send(counts, '/items', 600).ticket
    // The next window's answer: a reset 2,000 ms after the first one said (500): the window is 2 s,
    // its margin 20 ms.
    counts.observe(ticket, '/items', fixed(3, 1, 1900), 600, 0)
    send(counts, '/items', 601)
    expect(send(counts, '/items', 602).wait).toBe(2520 - 602)
    // Past that reset, 3 more fit, then the wait runs to 4,520.
    expect([2520, 2521].map((t) => send(counts, '/items', t).wait)).toEqual([0, 0])
    expect(send(counts, '/items', 2522).wait).toBe(4520 - 2522)
  })

  test('resources are counted apart: a path always answered from one is counted only there', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/search/code', fixed(2, 1, 60_000, 'search'), 0, 0)
    counts.observe(NONE, '/repos/a/b', fixed(5000, 10, 3_600_000, 'core'), 0, 0)
    // The search count is full after one more search...
    expect(send(counts, '/search/issues', 1).wait).toBe(60_600 - 1)
    // ...and /repos, known as core, is not counted in it: core has room.
    expect(send(counts, '/repos/a/c', 2).wait).toBe(0)
    // A path never answered yet may hit either: counted in both, it waits for the fuller one.
    expect(send(counts, '/users/x', 3).wait).toBe(60_600 - 3)
  })
})

describe('a leaky bucket (Shopify)', () => {
  const bucket = (used: number): Counting => ({ kind: 'leaky-bucket', size: 4, used, leakPerMs: 0.002 })

  test('full, it waits for one call to leak (500 ms at 2/s); each send after fills it again', () => {
    const counts = new ServerCounts()
    expect(counts.observe(NONE, '/orders.json', bucket(2), 0, 0)).toBe(0)
    const first = send(counts, '/orders.json', 0)
    expect(first.wait).toBe(0)
    const second = send(counts, '/orders.json', 0)
    expect(second.wait).toBe(500)
    const third = send(counts, '/x', 500).ticket
    expect(counts.wait(third, 500)).toBe(500)
    // An answer that says the bucket drained further than counted (others' calls count too, both
    // ways). The sends before it are answered: it takes them in.
    for (const ticket of [first.ticket, second.ticket, third]) counts.settle(ticket)
    const ticket = send(counts, '/orders.json', 1000).ticket
    counts.settle(ticket)
    expect(counts.observe(ticket, '/orders.json', bucket(1), 1000, 0)).toBe(0)
  })

  test('a newer send that overtook the basis says a lower level: the basis stays', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/orders.json', bucket(0), 0, 0)
    const [x, y] = [0, 0].map((t) => send(counts, '/orders.json', t).ticket)
    counts.settle(x!)
    counts.observe(x!, '/orders.json', bucket(3), 0, 1)
    counts.settle(y!)
    counts.observe(y!, '/orders.json', bucket(2), 0, 0)
    // The bucket holds 3 of 4: one more send fills it.
    expect(send(counts, '/orders.json', 0).wait).toBe(500)
  })

  test('a send made before the answer read, still in flight, is counted on top of the level it says', () => {
    const counts = new ServerCounts()
    counts.observe(NONE, '/orders.json', bucket(0), 0, 0)
    send(counts, '/orders.json', 0)
    const late = send(counts, '/orders.json', 0).ticket
    // The later send arrived first: level 2 of 4 (others' calls), and the early one may still come.
    counts.settle(late)
    expect(counts.observe(late, '/orders.json', bucket(2), 0, 1)).toBe(0)
    expect(send(counts, '/orders.json', 0).wait).toBe(500)
  })
})

describe('a reset said as a delay (Discord, X-RateLimit-Reset in seconds)', () => {
  test('needs no margin for clocks that disagree: the wait runs to the reset exactly', () => {
    const counts = new ServerCounts()
    expect(counts.observe(NONE, '/items', fixed(5, 5, 3000, 'core', false), 0, 0)).toBe(3000)
  })
})

describe('hostile answers', () => {
  test('past 16 resources, answers from a new one are not counted: a send is never counted thousands of times', () => {
    const counts = new ServerCounts()
    for (let i = 0; i < 1000; i++) counts.observe(NONE, `/r${i}`, fixed(5, 0, 1000, `res${i}`), 0, 0)
    expect(counts.count('/unknown', 1, 0).size).toBe(16)
  })
})
