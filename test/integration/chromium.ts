/**
 * A real Chromium for the browser tests: Debian's `chromium` package (or `CHROMIUM_PATH`), driven by
 * `playwright-core` (which downloads no browser of its own), with a fresh profile each launch and nothing that
 * reaches the network on its own.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium to drive, or `undefined` when this machine has none. */
export const chromiumPath = (): string | undefined =>
  [process.env.CHROMIUM_PATH, ...CANDIDATES].find(
    (path): path is string => Boolean(path) && existsSync(path as string),
  );

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type Browser = { context: BrowserContext; close(): Promise<void> };

/** Launches Chromium with a fresh user-data-dir (removed on close). */
export const launchChromium = async (
  executablePath: string,
  viewport = { width: 1280, height: 800 },
): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), 'algolib-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: FLAGS,
    viewport,
    timeout: 60_000,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
};
