// The CLI's esbuild builds, shared by `npm run build` (scripts/build.mjs) and the test that checks what a command
// loads (test/unit/cli-bundle.test.ts). What `algolib validate` parses and runs at every start is decided here.

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { commonOptions, platformShim, zodEnglishOnly } from './register-bundle.mjs';

/** Where the ES modules go (and the chunks beside index.mjs, which all mean dist/cli/ by `__dirname`). */
export const CLI_OUT = 'dist/cli';

const CLI_BANNER = [
  "import { createRequire as __algolibCreateRequire } from 'node:module';",
  "import { dirname as __algolibDirname } from 'node:path';",
  "import { fileURLToPath as __algolibFileURLToPath } from 'node:url';",
  'const require = __algolibCreateRequire(import.meta.url);',
  'const __filename = __algolibFileURLToPath(import.meta.url);',
  'const __dirname = __algolibDirname(__filename);',
].join('\n');

const CLASSIC = 'zod-classic';

/**
 * Classic zod (`import { z } from 'zod'`, the local cloud's) gets a copy of zod's core of its own. With code splitting
 * a module is in one chunk, and everything of it that any command uses is in that chunk: classic's `z` namespace uses
 * the whole core (JSON Schema, `z.compile`, every format), so `validate`, which uses `zod/mini` through the manifest
 * schema, loaded 218 KiB of zod instead of the 45 KiB the manifest needs. Both copies are the same package; nothing
 * passes a schema from one to the other (local/ builds its own schemas), zod's global registry lives on `globalThis`
 * and classic sets its English messages itself, so the copies behave as one.
 */
export const zodClassicCopy = {
  name: 'zod-classic-copy',
  setup(build) {
    const inClassic = async (args) => {
      // build.resolve runs these callbacks again: `pluginData` marks that nested call, which resolves normally.
      if (args.pluginData === CLASSIC) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: CLASSIC,
      });
      if (resolved.errors.length > 0 || resolved.external) return resolved;
      return { path: resolved.path, namespace: CLASSIC, sideEffects: resolved.sideEffects };
    };
    build.onResolve({ filter: /^zod$/ }, inClassic);
    build.onResolve({ filter: /.*/, namespace: CLASSIC }, inClassic);
    build.onLoad({ filter: /.*/, namespace: CLASSIC }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * The CLI is ES modules with code splitting so that a command loads only what it needs: cli/index.ts imports each
 * command with `await import()`, and esbuild puts each command and the code only it uses into chunks of their own.
 * (A CommonJS bundle inlines every command: `algolib --version` parsed all 3.3 MiB of it.) ESM output needs
 * `require`, `__dirname` and `__filename` for the CommonJS packages it bundles (and for local/cloud.ts's
 * projectRoot), so each file defines them. Whitespace and syntax are minified (less to parse), identifiers are not
 * (readable --debug stacks). The same cuts as the function's bundle: English zod messages only, platform's
 * User-Agent string without its browser-detection table (scripts/register-bundle.mjs says why each is safe).
 */
export const cliModulesBuild = (outdir = CLI_OUT) => ({
  ...commonOptions,
  format: 'esm',
  splitting: true,
  entryPoints: ['cli/index.ts'],
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  banner: { js: CLI_BANNER },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // zodEnglishOnly first: it cuts zod's locales module in both copies of zod.
  plugins: [zodEnglishOnly, platformShim, zodClassicCopy],
});

/**
 * `algolib validate` once more, as one CommonJS file that bin/algolib.js runs for it (cli/validate-main.ts says why):
 * no ES module loader, one file instead of fourteen. Built from the same modules as the ES build, with the same cuts.
 */
export const cliValidateBuild = (outdir = CLI_OUT) => ({
  ...commonOptions,
  entryPoints: ['cli/validate-main.ts'],
  outfile: `${outdir}/validate.cjs`,
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  plugins: [zodEnglishOnly],
});
