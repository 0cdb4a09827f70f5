import type { BrowserContext } from 'playwright-core'

/** Types of chromium.js, which the browser tests (TypeScript) share with the benchmark. */
export declare const CHROMIUM: string
export declare function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }>
