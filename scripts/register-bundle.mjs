// The register function's esbuild build, shared by `npm run build` (scripts/build.mjs) and `npm run bench` (which
// builds variants of it side by side). What a cold start parses and runs is decided here; docs/bench.md measures it.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sidecar file, next to index.js, that holds iconv-lite. */
export const ICONV_SIDECAR = 'iconv-lite.js';

/**
 * iconv-lite is ~480 KiB of code-page tables that urllib (ali-oss's HTTP client) requires lazily, only to decode a
 * response whose charset is not UTF-8. Bundled, V8 still has to scan it at every cold start; as a sidecar file it is
 * read only on that rare path, with the same code and the same behaviour. The shipped function no longer bundles
 * urllib (its OSS client is shared/oss-client.ts); the bench's build of it with the SDKs still uses this.
 */
export const iconvSidecar = {
  name: 'iconv-lite-sidecar',
  setup(build) {
    build.onResolve({ filter: /^iconv-lite$/ }, () => ({ path: `./${ICONV_SIDECAR}`, external: true }));
  },
};

/**
 * `locales` of zod (shared/zod.ts reads `locales.en`) is one module re-exporting 60-odd error-message locales
 * (~250 KiB). The function only ever uses English, so that module is cut down to `en`.
 */
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * ali-oss requires `platform` for one string of its User-Agent, and platform.js runs its browser-detection table to
 * make it (≈ 6 ms of every cold start). scripts/platform-shim.cjs computes that string the same way on Linux and loads
 * the real module for anything else.
 */
export const platformShim = {
  name: 'platform-shim',
  setup(build) {
    // Beside this file; when a CommonJS bundle inlined it (the bench), import.meta is empty: from the project root.
    const scripts = import.meta.url
      ? dirname(fileURLToPath(import.meta.url))
      : join(build.initialOptions.absWorkingDir ?? process.cwd(), 'scripts');
    const shim = join(scripts, 'platform-shim.cjs');
    build.onResolve({ filter: /^platform$/ }, () => ({ path: shim }));
  },
};

export const commonOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  // ali-oss requires proxy-agent only when a proxy option is set; it is not installed and never used here.
  external: ['proxy-agent'],
  legalComments: 'none',
};

/**
 * The esbuild option sets that make the function's code folder `outdir`: index.js, and the iconv-lite sidecar when
 * `plugins` hold `iconvSidecar` (builds that bundle urllib). `entry` and `plugins` let the bench build variants of the
 * same function.
 */
export const registerBuilds = (
  outdir,
  { entry = 'functions/register/index.ts', plugins = [zodEnglishOnly, platformShim], ...overrides } = {},
) => [
  { ...commonOptions, ...overrides, entryPoints: [entry], outfile: join(outdir, 'index.js'), minify: true, plugins },
  ...(plugins.includes(iconvSidecar) ? [iconvBuild(outdir, overrides)] : []),
];

const iconvBuild = (outdir, overrides) => ({
  ...commonOptions,
  ...overrides,
  stdin: {
    contents: "module.exports = require('iconv-lite');",
    resolveDir: overrides.absWorkingDir ?? process.cwd(),
  },
  outfile: join(outdir, ICONV_SIDECAR),
  minify: true,
});
