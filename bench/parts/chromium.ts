// Debian's Chromium driven by playwright-core, for the web app's browser test and its
// first-paint benchmark. Flags from ../shared/NOTES.md: without the
// networking ones Chromium floods a closed network with refused connections. Each launch gets
// a fresh profile directory, removed on close.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_SKIP = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`;

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A 1280x800 window; Playwright passes the fresh profile as --user-data-dir. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'faceembed-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Every console error and uncaught page error, so a test can assert there were none. Errors a
 * step provokes on purpose (a 401, a 409) are taken back with `expect`.
 */
export class ConsoleWatch {
  readonly errors: string[] = [];

  constructor(page: Page) {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') this.errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (err) => this.errors.push(`uncaught: ${err.message}`));
  }

  /** Removes the errors matching `pattern` (the resource errors of a deliberate failure). */
  expect(pattern: RegExp): number {
    const before = this.errors.length;
    const kept = this.errors.filter((e) => !pattern.test(e));
    this.errors.splice(0, this.errors.length, ...kept);
    return before - kept.length;
  }
}
