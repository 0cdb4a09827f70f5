/** The environment header every benchmark prints first: figures mean little without it. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'

const require = createRequire(import.meta.url)

/** Installed version of a package, read from its package.json (undefined if absent). */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version
  } catch {
    // Some packages do not export ./package.json; find it next to the entry point instead.
    try {
      const entry = require.resolve(name)
      const root = entry.slice(0, entry.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}/`.length)
      return JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version
    } catch {
      return undefined
    }
  }
}

/**
 * Markdown lines naming Node, the machine, how busy it was at the start (load average: a shared
 * machine makes noisy figures), and the versions of the packages compared.
 *
 * @param {string[]} packages
 */
export function describeEnvironment(packages = []) {
  const cpus = os.cpus()
  const load = os.loadavg().map((l) => l.toFixed(2))
  const versions = packages.map((name) => `${name} ${packageVersion(name) ?? '(not installed)'}`)
  return [
    `- Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.release()}`,
    `- Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, load average ${load.join(' / ')} at start`,
    `- Run started ${new Date().toISOString()}`,
    ...(versions.length > 0 ? [`- Packages: ${versions.join(', ')}`] : []),
  ]
}
