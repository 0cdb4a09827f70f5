/**
 * Debian's headless Chromium, driven by playwright-core, as the report's benchmark, its browser
 * tests and its screenshot launch it: a fresh profile directory each time, nothing phoning home.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

/** Where Debian's `chromium` package puts it (.ci/run installs it when it is missing). */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Launches Chromium with a fresh profile, 1200 × 900; `close` ends it and removes the profile.
 *
 * @returns {Promise<{ context: import('playwright-core').BrowserContext, close: () => Promise<void> }>}
 */
export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'volley-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  })
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
