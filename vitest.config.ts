import { defineConfig } from 'vitest/config'

/**
 * End-to-end tests that check a rate from the server's side (arrival times at the mock API). They
 * run after everything else, one file at a time: on 2 cores, other suites running beside them would
 * delay the mock's event loop and bunch its arrival timestamps, which measures the machine's load,
 * not volley.
 */
const serverTimed = [
  'test/arrivals/far-api.test.ts',
  'test/arrivals/dialects.test.ts',
  'test/arrivals/shared-budget.test.ts',
  'test/redis/processes.test.ts',
  'test/redis/outage.test.ts',
  'test/redis/job/processes.test.ts',
  'test/http/adaptive-mock.test.ts',
  'test/cli/redis.test.ts',
  'test/cli/rate.test.ts',
  // The demo says how many requests the mock refused: none, by the arrivals it counts.
  'test/cli/demo.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['test/**/*.test.ts'],
          exclude: serverTimed,
          // The machines have 2 cores; end-to-end suites start servers and child processes.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'server-timed',
          include: serverTimed,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
