/**
 * Pagination (issue 13): 100 lists of 20 pages (20 items a page), GitHub style (an array body and a
 * `Link: <...>; rel="next"` header), against volley's mock answering every page in 20 ms and holding
 * a 200/s rate limit (exact sliding window on arrival; 429 + Retry-After beyond it). The mock runs in
 * a process of its own (bench/lib/mock-process.js), a fresh one per measurement.
 *
 * Contenders, all told the server's 200/s and following 10 lists at once: volley's
 * `api.paginateAll`, and got's `got.paginate.all` (its default Link-header pagination) per list,
 * the lists run through p-limit and every request (retries included) through p-throttle in a
 * beforeRequest hook, which is where a got user puts a rate limit.
 *
 *   npm run build && node bench/http-pagination.js [--quick] [--rounds N] [--only a,b]
 */

import { parseBenchArgs } from './lib/args.js'
import { runBench } from './lib/bench.js'
import { startMockProcess } from './lib/mock-process.js'
import { importVolley } from './lib/volley.js'

const RATE_PER_S = 200
const WINDOW_MS = 1000
const LATENCY_MS = 20
const CONCURRENCY = 10
const PAGE_SIZE = 20

/** The lists' first pages: `/lists/l<i>?style=link&pages=<pages>&size=20`. */
const listPaths = ({ lists, pages }) =>
  Array.from({ length: lists }, (_, i) => `/lists/l${i}?style=link&pages=${pages}&size=${PAGE_SIZE}`)

/**
 * Checks that every list's items arrived exactly once and in order: list i's items are
 * `l<i>-0`, `l<i>-1`... (the mock's ids), pages × 20 of them. Throws naming the first wrong one.
 * @param {string[][]} received the ids each list's items arrived with, in arrival order
 */
function checkItems(received, { lists, pages }) {
  const perList = pages * PAGE_SIZE
  if (received.length !== lists) throw new Error(`expected ${lists} lists, got ${received.length}`)
  received.forEach((ids, list) => {
    if (ids.length !== perList) throw new Error(`list ${list}: expected ${perList} items, got ${ids.length}`)
    ids.forEach((id, n) => {
      if (id !== `l${list}-${n}`) throw new Error(`list ${list}: item ${n} is ${id}, expected l${list}-${n}`)
    })
  })
}

/**
 * Starts the mock in its own process, times `run(url, paths)` (which resolves with the ids of each
 * list's items, in the order they arrived), checks them, and returns what the server saw.
 */
async function measure(params, run) {
  const server = await startMockProcess({
    rate: `${RATE_PER_S}/s`,
    latency: { min: LATENCY_MS, max: LATENCY_MS },
  })
  try {
    const started = performance.now()
    const received = await run(server.url, listPaths(params))
    const elapsedS = (performance.now() - started) / 1000
    checkItems(received, params)
    const { stats } = await server.report()
    const pagesServed = stats.byStatus['200'] ?? 0
    if (pagesServed !== params.lists * params.pages) {
      throw new Error(
        `expected ${params.lists * params.pages} pages served, the server answered ${pagesServed} with 200`,
      )
    }
    const items = params.lists * params.pages * PAGE_SIZE
    return {
      itemsPerSec: items / elapsedS,
      elapsedS,
      refusals: stats.rateLimited,
      maxArrivals1s: stats.maxWindowArrivals,
    }
  } finally {
    await server.close()
  }
}

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  {
    name: 'volley paginateAll',
    kind: 'volley',
    run: async (params) => {
      const { createClient } = await importVolley()
      return measure(params, async (baseUrl, paths) => {
        const api = createClient({ baseUrl, rate: `${RATE_PER_S}/s`, concurrency: CONCURRENCY })
        try {
          const received = paths.map(() => [])
          for await (const result of api.paginateAll(paths, {
            concurrency: CONCURRENCY,
            items: (response) => response.json(),
          })) {
            if (!result.ok) throw result.error
            received[result.list].push(result.item.id)
          }
          return received
        } finally {
          await api.close()
        }
      })
    },
  },
  ...[false, true].map((strict) => ({
    name: `got.paginate+p-limit+p-throttle${strict ? ' strict' : ''}`,
    kind: 'peer',
    run: async (params) => {
      const { default: got } = await import('got')
      const { default: pLimit } = await import('p-limit')
      const { default: pThrottle } = await import('p-throttle')
      return measure(params, (prefixUrl, paths) => {
        const limit = pLimit(CONCURRENCY)
        const throttle = pThrottle({ limit: RATE_PER_S, interval: WINDOW_MS, strict })(() => {})
        const client = got.extend({ hooks: { beforeRequest: [() => throttle()] } })
        const one = async (path) => {
          const items = await client.paginate.all(new URL(path, prefixUrl))
          return items.map((item) => item.id)
        }
        return Promise.all(paths.map((path) => limit(() => one(path))))
      })
    },
  })),
]

const { quick } = parseBenchArgs()
// --quick still needs 3 windows' worth of pages, so the rate binds there too.
const job = quick ? { lists: 30, pages: 20 } : { lists: 100, pages: 20 }

await runBench({
  name: 'pagination',
  title: `Pagination: lists of ${PAGE_SIZE}-item pages (Link header) against an API answering in ${LATENCY_MS} ms and allowing ${RATE_PER_S}/s`,
  script: import.meta.url,
  packages: ['got', 'p-limit', 'p-throttle'],
  notes: [
    `- Job: 100 lists × 20 pages of ${PAGE_SIZE} items (40,000 items, 2,000 pages; --quick: 30 lists × 20 pages), GitHub style: \`GET /lists/l<i>?style=link&pages=20&size=${PAGE_SIZE}\`, an array body and \`Link: <...&page=k+1>; rel="next", <...>; rel="last"\`.`,
    `- Server: volley's mock, \`{ rate: '${RATE_PER_S}/s', latency: { min: ${LATENCY_MS}, max: ${LATENCY_MS} } }\`: an exact sliding window on arrival (429 + Retry-After in whole seconds beyond it; a refused request does not count), every answer after ${LATENCY_MS} ms. It runs in a process of its own (bench/lib/mock-process.js), a fresh one per measurement. At ${RATE_PER_S}/s the 2,000 pages take at least ~10 s: the rate binds, not the latency (${(RATE_PER_S * LATENCY_MS) / 1000} requests in flight suffice).`,
    `- volley: \`createClient({ baseUrl, rate: '${RATE_PER_S}/s', concurrency: ${CONCURRENCY} })\` then \`api.paginateAll(paths, { concurrency: ${CONCURRENCY}, items: (response) => response.json() })\` (its default \`next\`: the Link header); everything else default (it retries 429s itself, honouring Retry-After).`,
    `- got: \`got.extend({ hooks: { beforeRequest: [() => throttle()] } })\`, \`throttle\` a p-throttle \`{ limit: ${RATE_PER_S}, interval: ${WINDOW_MS} }\` (and \`strict: true\` in the second row) around a no-op, so every request got sends, retries included, waits its turn; then \`client.paginate.all(url)\` per list (got's default pagination: the Link header's rel="next"), the lists run through p-limit(${CONCURRENCY}). got's own retry (2 retries, 429 included, honouring Retry-After) is left as it is. got has no rate limiter of its own.`,
    '- Items/s: items received over the total time (first request to last item). 429s: responses 429 the server sent. Max requests / 1 s: the most requests of any outcome that arrived in one sliding second at the server.',
    '- Every run checks that every item of every list arrived exactly once and in its list’s order (ids `l<i>-0`, `l<i>-1`...), and that the server answered each page once with 200; it fails otherwise.',
  ],
  rounds: { normal: 3, quick: 1 },
  scenarios: [
    {
      name: 'link',
      title: `Link header, ${job.lists} lists × ${job.pages} pages`,
      params: () => job,
    },
  ],
  contenders,
  columns: [
    { key: 'itemsPerSec', label: 'items/s' },
    { key: 'elapsedS', label: 'total time (s)', digits: 2 },
    { key: 'refusals', label: '429s' },
    { key: 'maxArrivals1s', label: 'max requests / 1 s' },
  ],
  ratios: [
    { key: 'itemsPerSec', label: 'items/s', better: 'higher' },
    { key: 'refusals', label: '429s', better: 'lower' },
  ],
  targets: [
    { label: 'volley draws no 429', contender: 'volley paginateAll', key: 'refusals', atMost: 0 },
    {
      label: 'volley paginateAll >= got.paginate items/s',
      contender: 'volley paginateAll',
      key: 'itemsPerSec',
      atLeast: { contender: 'got.paginate+p-limit+p-throttle' },
    },
  ],
})
