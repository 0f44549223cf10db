/**
 * The console in a real Chromium against the local cloud: a row turns REGISTERED without a reload, an invalid
 * manifest's error and path are on the library page (marked in the manifest), a dead letter is replayed from the
 * page by keyboard and ends registered; the page stays on its own origin, fits 1280×800 and 390×844, and its first
 * load is within the README's weight budget. `CONSOLE_SCREENSHOTS=1` (`npm run screenshots`) also writes the
 * screenshots in docs/. Without a Chromium on the machine the file says so in one line and skips.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../local/cloud.ts';
import { CANARY_MARKER } from '../../proving/canary.ts';
import { type Browser, chromiumPath, launchChromium } from './chromium.ts';
import {
  type ConsoleCloud,
  newPair,
  PAGE_WEIGHT_BUDGET_BYTES,
  pairNamed,
  startConsoleCloud,
  upload,
  uploadIntoDeadLetter,
} from './console-cloud.ts';

const executable = chromiumPath();
if (!executable)
  process.stderr.write(
    'console browser tests skipped: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)\n',
  );

const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1';
// Generous: a cold first FC instance loads the bundle; the registration itself takes well under a second.
const UI_TIMEOUT_MS = 20_000;

let env: ConsoleCloud;
let browser: Browser;
/** Every URL the pages requested: all must be the console's own. */
const requested: string[] = [];

let published: Promise<void> | undefined;
/** At least one registered library, for the tests that only look at pages (each test can run alone). */
const someLibrary = () => {
  published ??= (async () => {
    await upload(env.client, newPair('ui-any'));
    await env.cloud.idle();
  })();
  return published;
};

const openConsole = async (hash = '#/'): Promise<Page> => {
  const page = await browser.context.newPage();
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${env.console.url}${hash}`);
  return page;
};

// Page-side code as expressions: this tsconfig has Node's types, not the DOM's.
/** Marks the document; a reload would lose the mark. */
const markDocument = (page: Page) => page.evaluate('window.consoleTestMark = true');
const stillMarked = (page: Page) => page.evaluate('window.consoleTestMark === true');

const overflowsHorizontally = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth > window.innerWidth + 1');

/** What the first load cost: bytes of the page, its CSS and script (not the API polls), and the first paint. */
const FIRST_LOAD = `(() => {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const paint = performance.getEntriesByName('first-contentful-paint')[0] ?? performance.getEntriesByName('first-paint')[0];
  return {
    firstLoadBytes: entries.filter((e) => !e.name.includes('/api/')).reduce((sum, e) => sum + e.decodedBodySize, 0),
    firstPaintMs: paint ? Math.round(paint.startTime) : undefined,
  };
})()`;

describe.skipIf(!executable)('the console in Chromium', () => {
  beforeAll(async () => {
    env = await startConsoleCloud();
    browser = await launchChromium(executable as string);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  it('turns a new row REGISTERED without a reload', async () => {
    // Arrange
    const page = await openConsole();
    await page.locator('h1', { hasText: 'Libraries' }).waitFor();
    await markDocument(page);
    const pair = newPair('ui-live');

    // Act
    await upload(env.client, pair);

    // Assert
    await page
      .locator(`tr[data-library="${pair.name}"] .badge`, { hasText: 'REGISTERED' })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator(`tr[data-library="${pair.name}"] td[data-label="Version"]`).textContent()).toBe('1.0.0');
    expect(await stillMarked(page)).toBe(true);
    await page.close();
  });

  it("shows an invalid manifest's error and path on the library page, marked in the manifest", async () => {
    // Arrange
    const pair = newPair('ui-invalid', '1.0.0', { capacity: 0 });
    await upload(env.client, pair);
    await env.cloud.idle();
    const page = await openConsole();

    // Act: find it by keyboard: "/" to search, type, then follow the row's link.
    await page.locator(`tr[data-library="${pair.name}"]`).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.keyboard.press('/');
    await page.keyboard.type(pair.name);
    await page.getByRole('link', { name: pair.name, exact: true }).focus();
    await page.keyboard.press('Enter');

    // Assert
    await page.locator('h1', { hasText: pair.name }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('h1 .badge').textContent()).toBe('REJECTED');
    const errorRow = page.locator('table.errors tbody tr').first();
    expect(await errorRow.locator('td[data-label="Code"]').textContent()).toBe('MANIFEST_INVALID');
    expect(await errorRow.locator('td[data-label="Path"]').textContent()).toBe('capacity');
    const marked = page.locator('.manifest .marked');
    await marked.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await marked.getAttribute('data-path')).toBe('capacity');
    expect(await marked.textContent()).toContain('"capacity": 0');
    expect(await page.locator('svg.timeline').getAttribute('aria-label')).toContain('rejected');
    await page.close();
  });

  it('replays a dead letter from the page and sees it registered', async () => {
    // Arrange
    const pair = newPair('ui-dead');
    await uploadIntoDeadLetter(env.cloud, env.client, pair);
    const page = await openConsole('#/local');
    // Both halves' events were given up on: either row's button re-runs the pair.
    const button = page.locator(`button[data-replay="${pair.packageKey}"]`).first();
    await button.waitFor({ timeout: UI_TIMEOUT_MS });
    await markDocument(page);

    // Act: by keyboard, as a person without a mouse would.
    await button.focus();
    await page.keyboard.press('Enter');

    // Assert
    await page
      .locator('#dead-letters [role="status"]', { hasText: 'started' })
      .first()
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#cityvisual td[data-label="Name"]', { hasText: pair.name }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByRole('link', { name: 'Libraries', exact: true }).click();
    await page
      .locator(`tr[data-library="${pair.name}"] .badge`, { hasText: 'REGISTERED' })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await stillMarked(page)).toBe(true);
    await page.close();
  });

  it.each([
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ])('fits $width×$height without sideways scrolling', async (viewport) => {
    // Arrange
    await someLibrary();
    const page = await openConsole();
    await page.setViewportSize(viewport);
    await page.locator('tr[data-library]').first().waitFor({ timeout: UI_TIMEOUT_MS });
    const name = await page.locator('tr[data-library]').first().getAttribute('data-library');

    // Act
    const listOverflows = await overflowsHorizontally(page);
    await page.goto(`${env.console.url}#/library/${name}`);
    await page.locator('svg.timeline').waitFor({ timeout: UI_TIMEOUT_MS });
    const libraryOverflows = await overflowsHorizontally(page);

    // Assert
    expect({ listOverflows, libraryOverflows }).toEqual({ listOverflows: false, libraryOverflows: false });
    await page.close();
  });

  it('loads within the weight budget, from its own origin only, with no secret on the page', async () => {
    // Arrange
    await someLibrary();
    const page = await openConsole();
    await page.locator('tr[data-library]').first().waitFor({ timeout: UI_TIMEOUT_MS });

    // Act
    const load = (await page.evaluate(FIRST_LOAD)) as { firstLoadBytes: number; firstPaintMs: number | undefined };
    const html = await page.content();

    // Assert
    process.stdout.write(
      `console first load: ${(load.firstLoadBytes / 1024).toFixed(1)} KiB uncompressed (budget ${PAGE_WEIGHT_BUDGET_BYTES / 1024} KiB), first contentful paint ${load.firstPaintMs} ms\n`,
    );
    expect(load.firstLoadBytes).toBeGreaterThan(0);
    expect(load.firstLoadBytes).toBeLessThan(PAGE_WEIGHT_BUDGET_BYTES);
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(env.console.url))).toEqual([]);
    expect(html).not.toContain(CANARY_MARKER);
    await page.close();
  });

  it.runIf(SCREENSHOTS)('writes the screenshots in docs/', async () => {
    // Arrange: a library with several uploads, one of them turned away, so the pages show what they are for.
    const versions = [
      pairNamed('face-detector', '1.0.0'),
      pairNamed('face-detector', '1.1.0'),
      pairNamed('face-detector', '1.2.0', { capacity: 0, capabilities: ['FACE', 'face'] }),
      pairNamed('plate-reader', '2.3.1'),
    ];
    for (const pair of versions) {
      await upload(env.client, pair);
      await env.cloud.idle();
    }
    const docs = join(projectRoot(), 'docs');
    const shoot = async (hash: string, file: string, viewport: { width: number; height: number }, ready: string) => {
      const page = await openConsole(hash);
      await page.setViewportSize(viewport);
      await page.locator(ready).first().waitFor({ timeout: UI_TIMEOUT_MS });
      // The manifest panel loads after the page: wait for it where there is one.
      if (hash.startsWith('#/library/')) await page.locator('.manifest').first().waitFor({ timeout: UI_TIMEOUT_MS });
      writeFileSync(join(docs, file), await page.screenshot({ fullPage: false }));
      await page.close();
    };

    // Act
    await shoot('#/', 'console-libraries.png', { width: 1280, height: 800 }, 'tr[data-library="face-detector"]');
    await shoot('#/library/face-detector', 'console-library.png', { width: 1280, height: 800 }, 'svg.timeline');
    const library = await openConsole('#/library/face-detector');
    await library.locator('.manifest .marked').first().waitFor({ timeout: UI_TIMEOUT_MS });
    writeFileSync(
      join(docs, 'console-upload-errors.png'),
      await library.locator('article.upload').first().screenshot(),
    );
    await library.close();
    await shoot('#/local', 'console-local.png', { width: 1280, height: 800 }, '#invocations tbody tr');
    await shoot('#/', 'console-phone.png', { width: 390, height: 844 }, 'tr[data-library="face-detector"]');

    // Assert
    expect(requested.filter((url) => !url.startsWith(env.console.url))).toEqual([]);
  });
});
