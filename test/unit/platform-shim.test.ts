/**
 * scripts/platform-shim.cjs stands in for the `platform` package in the function bundle: what ali-oss reads from it
 * (and so the User-Agent every OSS request carries) must not change.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Platform = { description?: string; name?: string; version?: string; os?: { toString(): string } };
const shim = require('../../scripts/platform-shim.cjs') as Platform;
const real = require('platform') as Platform;

describe('platform-shim', () => {
  it('describes this Node.js exactly as platform.js does', () => {
    expect(shim.description).toBe(real.description);
  });

  it('hands every other property to the real module', () => {
    expect([shim.name, shim.version, String(shim.os)]).toEqual([real.name, real.version, String(real.os)]);
  });

  it('does not pass itself off as an ES module', () => {
    expect((shim as { __esModule?: boolean }).__esModule).toBeUndefined();
  });
});
