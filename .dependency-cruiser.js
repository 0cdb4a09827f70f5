/**
 * The layering of src/ (see ARCHITECTURE.md), checked by `npm run lint`: each folder imports only
 * the layers below it, so the Limiter core never depends on what is built on it.
 */

/** A rule that lets `from` import nothing in src/ except `allowed` (path patterns). */
function onlyImports(name, comment, from, allowed) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: from },
    to: { path: '^src/', pathNot: allowed },
  }
}

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules of src/ import each other in one direction only.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    onlyImports(
      'errors-is-the-base',
      'errors.ts is the base layer: it imports nothing from src/.',
      '^src/errors\\.ts$',
      [],
    ),
    onlyImports(
      'redact-is-the-base',
      'redact.ts is the base layer beside errors.ts: http, cli and redis share it.',
      '^src/redact\\.ts$',
      ['^src/errors\\.ts$'],
    ),
    onlyImports('limit-is-the-core', 'The Limiter core depends on nothing built on it.', '^src/limit/', [
      '^src/limit/',
      '^src/errors\\.ts$',
    ]),
    onlyImports('run-on-limit', 'run/ (all, stream, group) is built on the Limiter only.', '^src/run/', [
      '^src/limit/',
      '^src/run/',
      '^src/errors\\.ts$',
    ]),
    onlyImports('http-on-run', 'The HTTP client is built on the Limiter and run/.', '^src/http/', [
      '^src/limit/',
      '^src/run/',
      '^src/http/',
      '^src/errors\\.ts$',
      '^src/redact\\.ts$',
    ]),
    onlyImports('batch-on-run', 'The batcher is built on the Limiter and run/, not on HTTP.', '^src/batch/', [
      '^src/limit/',
      '^src/run/',
      '^src/batch/',
      '^src/errors\\.ts$',
    ]),
    onlyImports(
      'redis-is-a-store',
      'The Redis store implements the store contract of limit/.',
      '^src/redis/',
      ['^src/limit/', '^src/redis/', '^src/errors\\.ts$', '^src/redact\\.ts$'],
    ),
    onlyImports(
      'mock-stands-alone',
      'The mock API is a server: it shares only units and the clock.',
      '^src/mock/',
      ['^src/mock/', '^src/errors\\.ts$', '^src/limit/(units|clock)\\.ts$'],
    ),
    {
      name: 'cli-is-the-top',
      comment: 'Only the CLI imports the CLI: the library never depends on its shell.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'entry-points-are-not-imported',
      comment: 'The package entry points only re-export; inside src/ import the module itself.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/(index|mock/index|redis/index)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type from a higher layer is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
