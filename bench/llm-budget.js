/**
 * Token budget (issue 12): 500 chat completions costing 100-2,000 tokens each (seeded, the same job
 * for every contender) against volley's mock in its OpenAI profile, at OpenAI's 500 requests and
 * 30,000 tokens per minute with time run 60 times faster: 500/s and 30,000 tokens/s, answers in
 * 50-250 ms (3-15 s unscaled). The token budget binds; the request limit does not (~29/s needed).
 * The mock runs in a process of its own (bench/lib/mock-process.js), started in each child.
 *
 * Contenders, all at concurrency 16: volley told nothing but each request's cost (it learns both
 * budgets from x-ratelimit-*), volley given the token budget by hand, and undici through p-queue
 * (a request rate: budget / mean cost) and through bottleneck (a reservoir of tokens, each request
 * weighing its cost). Every 429 is sent again after its Retry-After, so all 500 complete.
 *
 *   npm run build && node bench/llm-budget.js [--quick] [--rounds N] [--only a,b]
 */

import { setTimeout as sleep } from 'node:timers/promises'
import { parseBenchArgs } from './lib/args.js'
import { runBench } from './lib/bench.js'
import { startMockProcess } from './lib/mock-process.js'
import { importOwnBuild, importVolley } from './lib/volley.js'

const REQUESTS_PER_S = 500
const TOKENS_PER_S = 30_000
const WINDOW_MS = 1000
const CONCURRENCY = 16
const JOB_SEED = 12
const MOCK_SEED = 1
const PATH = '/v1/chat/completions'

/**
 * The job: `n` chat requests whose charge (max_tokens + a quarter of the prompt's characters, as
 * the mock and OpenAI count it up front) is uniform in 100-2,000 tokens, 20-80% of it prompt.
 */
async function chats(n) {
  const { seededRandom } = await importOwnBuild('mock/random.js')
  const random = seededRandom(JOB_SEED)
  return Array.from({ length: n }, () => {
    const charge = 100 + Math.floor(random() * 1901)
    const prompt = Math.round(charge * (0.2 + 0.6 * random()))
    return {
      model: 'gpt-4o-mini',
      max_tokens: charge - prompt,
      messages: [{ role: 'user', content: 'word '.repeat(prompt).slice(0, prompt * 4) }],
    }
  })
}

/** A user's estimate of a request's tokens, the one in docs/http.md: exactly what the server charges. */
const estimate = (chat) =>
  chat.max_tokens + Math.ceil(chat.messages.reduce((sum, m) => sum + m.content.length, 0) / 4)

/** Tokens the server charges the job up front. */
const charged = (job) => job.reduce((sum, chat) => sum + estimate(chat), 0)

/**
 * The shortest time the budget allows from the first admission to the last, at the charges made up
 * front: any span shorter than k windows lies in k windows, which hold k budgets at most, so
 * C tokens need at least (ceil(C / budget) - 1) windows.
 */
const idealSeconds = (job) => ((Math.ceil(charged(job) / TOKENS_PER_S) - 1) * WINDOW_MS) / 1000

/**
 * Starts the mock in its own process, times `run(url, chats)` (which resolves with the number of
 * 200 responses its caller got), and returns what the server saw: 429s, and the share of the token
 * budget the admitted requests were charged from the first admitted arrival to the last (one
 * window's budget is there at the start, so the bound is budget x (span + 1 window)).
 */
async function measure({ n }, run) {
  const job = await chats(n)
  const server = await startMockProcess({
    profile: { name: 'openai', requests: `${REQUESTS_PER_S}/s`, tokens: `${TOKENS_PER_S}/s` },
    latency: { min: 50, max: 250 },
    recordArrivals: true,
    seed: MOCK_SEED,
  })
  try {
    const started = performance.now()
    const ok = await run(server.url, job)
    const elapsedS = (performance.now() - started) / 1000
    const { stats, arrivals } = await server.report()
    const served = stats.byStatus['200'] ?? 0
    if (ok !== n || served !== n || arrivals.admitted.length !== n) {
      throw new Error(
        `expected ${n} successful responses, got ${ok} (the server answered ${served} with 200)`,
      )
    }
    const { admitted } = arrivals
    const windows = (admitted.at(-1) - admitted[0]) / WINDOW_MS + 1
    const share = (tokens) => (100 * tokens) / (TOKENS_PER_S * windows)
    return {
      refusals: stats.rateLimited,
      budgetPct: share(stats.tokens.charged),
      settledPct: share(stats.tokens.used),
      elapsedS,
      vsIdeal: elapsedS / idealSeconds(job),
      maxRequests1s: stats.maxWindowAdmitted,
    }
  } finally {
    await server.close()
  }
}

/**
 * The peers' loop: every chat through `schedule(chat, task)` (the peer's limiter), one undici Agent
 * (keep-alive, 16 connections). A 429 waits its Retry-After outside the limiter, then goes back
 * through `schedule`. Resolves with the number of 200 responses.
 * @param {(chat: object, task: () => Promise<number>) => Promise<number>} schedule
 */
async function undiciThrough(url, job, schedule) {
  const { Agent, request } = await import('undici')
  const dispatcher = new Agent({ connections: CONCURRENCY })
  const post = async (chat) => {
    const { statusCode, headers, body } = await request(`${url}${PATH}`, {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat),
    })
    await body.arrayBuffer()
    if (statusCode === 200) return 0
    if (statusCode !== 429) throw new Error(`POST ${PATH}: status ${statusCode}`)
    return Number(headers['retry-after'] ?? 1) * 1000
  }
  const one = async (chat) => {
    for (;;) {
      const wait = await schedule(chat, () => post(chat))
      if (wait === 0) return 1
      await sleep(wait)
    }
  }
  try {
    const done = await Promise.all(job.map(one))
    return done.length
  } finally {
    await dispatcher.close()
  }
}

/** volley on the job: POSTs retried on 429 (a refused request was not processed), cost per request. */
const volley = (options) => async (params) => {
  const { createClient } = await importVolley()
  return measure(params, async (baseUrl, job) => {
    const api = createClient({
      baseUrl,
      concurrency: CONCURRENCY,
      retry: { retryPost: true },
      cost: (spec) => ({ tokens: estimate(spec.json) }),
      ...options,
    })
    try {
      const results = await api.all(job.map((json) => ({ method: 'POST', url: PATH, json })))
      for (const r of results) if (!r.ok) throw r.error
      return results.length
    } finally {
      await api.close()
    }
  })
}

/** Requests per second a user would allow knowing only a request limit: the budget over the mean cost. */
const requestsPerWindow = (job) => Math.floor(TOKENS_PER_S / (charged(job) / job.length))

/** @type {import('./lib/bench.js').Contender[]} */
const contenders = [
  { name: 'volley learned', kind: 'volley', run: volley({}) },
  // The reference volley-learned is judged against (kind 'baseline': a row of its ratio table).
  // References volley-learned is judged against (kind 'baseline': rows of its ratio table). The
  // second learns nothing from the headers: what volley paces at once the budget is known.
  { name: 'volley by hand', kind: 'baseline', run: volley({ rate: `${TOKENS_PER_S} tokens/s` }) },
  {
    name: 'volley by hand, adaptive off',
    kind: 'baseline',
    run: volley({ rate: `${TOKENS_PER_S} tokens/s`, adaptive: false }),
  },
  {
    name: 'undici+p-queue',
    kind: 'peer',
    run: async (params) => {
      const { default: PQueue } = await import('p-queue')
      return measure(params, (url, job) => {
        const queue = new PQueue({
          concurrency: CONCURRENCY,
          intervalCap: requestsPerWindow(job),
          interval: WINDOW_MS,
        })
        return undiciThrough(url, job, (_chat, task) => queue.add(task))
      })
    },
  },
  {
    name: 'undici+bottleneck weight',
    kind: 'peer',
    run: async (params) => {
      const { default: Bottleneck } = await import('bottleneck')
      const { default: pLimit } = await import('p-limit')
      return measure(params, (url, job) => {
        // A weight counts against maxConcurrent too, so the concurrency is p-limit's.
        const limit = pLimit(CONCURRENCY)
        const limiter = new Bottleneck({
          reservoir: TOKENS_PER_S,
          reservoirRefreshAmount: TOKENS_PER_S,
          reservoirRefreshInterval: WINDOW_MS,
        })
        return undiciThrough(url, job, (chat, task) =>
          limit(() => limiter.schedule({ weight: estimate(chat) }, task)),
        )
      })
    },
  },
]

const { quick } = parseBenchArgs()
const n = quick ? 200 : 500
const job = await chats(n)
const tokens = (count) => count.toLocaleString('en-US')

await runBench({
  name: 'llm-budget',
  title: `Token budget: chat completions of 100-2,000 tokens against an OpenAI-style API allowing ${TOKENS_PER_S.toLocaleString('en-US')} tokens/s`,
  script: import.meta.url,
  packages: ['undici', 'p-queue', 'bottleneck'],
  notes: [
    `- Job: ${n} POST ${PATH}, seeded (the same for every contender), each charged 100–2,000 tokens (uniform) up front: max_tokens + ceil(prompt characters / 4), 20–80% of it prompt; ${tokens(charged(job))} tokens in all. Every client's estimate is that charge (\`max_tokens\` + a quarter of the prompt's characters, as in docs/http.md).`,
    `- Server: volley's mock in its OpenAI profile, \`{ name: 'openai', requests: '${REQUESTS_PER_S}/s', tokens: '${TOKENS_PER_S}/s' }\`: OpenAI's 500 requests and 30,000 tokens per minute with time run 60× faster (exact sliding windows on arrival; 429 + Retry-After in whole seconds beyond either; x-ratelimit-* on every answer), answers after 50–250 ms (3–15 s unscaled). It charges a request up front and settles the charge to the usage drawn (half to all of max_tokens) when it answers. The token budget binds; the request limit does not (~29 requests/s needed). It runs in a process of its own (bench/lib/mock-process.js), a fresh one per measurement, so the client under measurement does not share its event loop.`,
    `- volley: \`createClient({ baseUrl, concurrency: ${CONCURRENCY}, retry: { retryPost: true }, cost: (spec) => ({ tokens: estimate(spec.json) }) })\` then \`api.all(specs)\`; "learned": no rate (both budgets learned from x-ratelimit-*); "by hand": \`rate: '${TOKENS_PER_S} tokens/s'\` as well (and the headers still read); "adaptive off": the same with \`adaptive: false\` (nothing learned). \`retryPost\`: a 429 was not processed, so it is sent again after Retry-After.`,
    `- Peers: undici \`request\` with one \`Agent({ connections: ${CONCURRENCY} })\` per run. p-queue \`{ concurrency: ${CONCURRENCY}, intervalCap: ${requestsPerWindow(job)}, interval: ${WINDOW_MS} }\`: a request limit, the budget over the job's mean cost. bottleneck \`{ reservoir: ${TOKENS_PER_S}, reservoirRefreshAmount: ${TOKENS_PER_S}, reservoirRefreshInterval: ${WINDOW_MS} }\`, each request scheduled with \`{ weight: estimate }\`, inside p-limit(${CONCURRENCY}) (a weight counts against bottleneck's maxConcurrent too). A 429 waits its Retry-After outside the limiter, then goes through it again, so all ${n} complete.`,
    `- 429s: responses 429 the server sent. Token budget used: tokens charged to the admitted requests over budget × (span + 1 window), the span from the first admitted arrival to the last (a window's budget is there at the start): 100% only for a client that fills every window from its first instant, so the end of the job weighs on every contender alike. Time / ideal: total time (first request to last response) over the shortest span the budget allows at these charges, (ceil(${tokens(charged(job))} / ${tokens(TOKENS_PER_S)}) − 1) × 1 s = ${idealSeconds(job)} s. Max requests / 1 s: the most admitted requests in one sliding second.`,
    `- Every run checks ${n} successful responses (client and server) and fails otherwise.`,
  ],
  rounds: { normal: 3, quick: 1 },
  scenarios: [
    {
      name: 'tokens',
      title: `chat completions, ${TOKENS_PER_S.toLocaleString('en-US')} tokens/s and ${REQUESTS_PER_S} requests/s`,
      params: () => ({ n }),
    },
  ],
  contenders,
  columns: [
    { key: 'refusals', label: '429s' },
    { key: 'budgetPct', label: 'token budget used (%)', digits: 1 },
    { key: 'elapsedS', label: 'total time (s)', digits: 2 },
    { key: 'vsIdeal', label: 'time / ideal', digits: 2 },
    { key: 'maxRequests1s', label: 'max requests / 1 s' },
  ],
  ratios: [
    { key: 'refusals', label: '429s', better: 'lower' },
    { key: 'elapsedS', label: 'total time', better: 'lower' },
  ],
  targets: [
    { label: 'volley learned draws no 429', contender: 'volley learned', key: 'refusals', atMost: 0 },
    {
      label: 'volley learned uses >= 90% of the token budget',
      contender: 'volley learned',
      key: 'budgetPct',
      atLeast: 90,
    },
  ],
})
