import { existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import { CHROMIUM } from '../../bench/lib/chromium.js'

export { launchChromium } from '../../bench/lib/chromium.js'

/**
 * Whether browser tests run here. In CI (CI=true) they always run, so a missing Chromium fails
 * them instead of skipping them quietly; elsewhere they are skipped with a message saying why.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return true
  console.warn(`${CHROMIUM} is missing: the report's browser tests are skipped (apt-get install chromium)`)
  return false
}

/** What a page did while it loaded: the requests it made, and its console errors and uncaught exceptions. */
export interface OpenedPage {
  page: Page
  requests: string[]
  errors: string[]
  close(): Promise<void>
}

/** Opens a report file and waits until its script has run (`data-charts` set) or, without charts, the load event. */
export async function openReport(context: BrowserContext, path: string): Promise<OpenedPage> {
  const page = await context.newPage()
  const requests: string[] = []
  const errors: string[] = []
  page.on('request', (request) => requests.push(request.url()))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' })
  return { page, requests, errors, close: () => page.close() }
}
