/**
 * Makes docs/report.png: `volley demo --act 1` (the built CLI), then its report opened in headless
 * Chromium (Debian's, /usr/bin/chromium) and captured 1200 px wide, down to the errors.
 *
 *   npm run build && node docs/report-screenshot.js
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { launchChromium } from '../bench/lib/chromium.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'volley-screenshot-'))
try {
  const demo = spawnSync(
    process.execPath,
    [join(root, 'dist/cli/bin.js'), 'demo', '--act', '1', '--dir', dir],
    {
      stdio: 'inherit',
      env: { ...process.env, CI: 'true' },
    },
  )
  if (demo.status !== 0) throw new Error(`volley demo exited ${demo.status}`)
  const { context, close } = await launchChromium()
  const page = await context.newPage()
  await page.goto(pathToFileURL(join(dir, 'results.report.html')).href, { waitUntil: 'load' })
  await page.screenshot({ path: join(root, 'docs/report.png'), fullPage: true })
  await close()
  console.log(`wrote ${join(root, 'docs/report.png')}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
