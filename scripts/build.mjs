// Builds the register function (one CommonJS file) and the CLI (ES modules split per command) with esbuild:
// `npm run build`.

import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { commonOptions, platformShim, registerBuilds, zodEnglishOnly } from './register-bundle.mjs';

/**
 * The CLI is ES modules with code splitting so that a command loads only what it needs: cli/index.ts imports each
 * command with `await import()`, and esbuild puts each command and the code only it uses into chunks of their own.
 * (A CommonJS bundle inlines every command: `algolib --version` parsed all 3.3 MiB of it.) ESM output needs
 * `require`, `__dirname` and `__filename` for the CommonJS packages it bundles (and for local/cloud.ts's
 * projectRoot), so each file defines them; the chunks sit beside index.mjs so they all mean dist/cli/.
 * Whitespace and syntax are minified (less to parse), identifiers are not (readable --debug stacks).
 */
const CLI_OUT = 'dist/cli';
const CLI_BANNER = [
  "import { createRequire as __algolibCreateRequire } from 'node:module';",
  "import { dirname as __algolibDirname } from 'node:path';",
  "import { fileURLToPath as __algolibFileURLToPath } from 'node:url';",
  'const require = __algolibCreateRequire(import.meta.url);',
  'const __filename = __algolibFileURLToPath(import.meta.url);',
  'const __dirname = __algolibDirname(__filename);',
].join('\n');

// Chunks of an earlier build have other hashes: start from an empty folder so that stale ones do not pile up.
rmSync(CLI_OUT, { recursive: true, force: true });
rmSync('dist/register', { recursive: true, force: true });
await Promise.all([
  // The function's options live in register-bundle.mjs, where the bench builds its variants from too.
  ...registerBuilds('dist/register').map((options) => build(options)),
  build({
    ...commonOptions,
    format: 'esm',
    splitting: true,
    entryPoints: ['cli/index.ts'],
    outdir: CLI_OUT,
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    banner: { js: CLI_BANNER },
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    // The same cuts as the function's bundle: English zod messages only, platform's User-Agent string without its
    // browser-detection table (scripts/register-bundle.mjs says why each is safe).
    plugins: [zodEnglishOnly, platformShim],
  }),
  // The console's page script: one ES module for the browser, served by `algolib console` from dist/console/.
  build({
    entryPoints: ['console/client/app.ts'],
    outfile: 'dist/console/app.js',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
  }),
]);
// FC unpacks CodeUri as the code root: mark it CommonJS whatever a parent package.json says.
mkdirSync('dist/register', { recursive: true });
writeFileSync('dist/register/package.json', '{ "type": "commonjs" }\n');
// The FC emulator forks each function instance from this plain CommonJS file, found beside the module that starts it.
copyFileSync('local/fc/instance-runner.cjs', join(CLI_OUT, 'instance-runner.cjs'));
const kib = (file) => `${(statSync(file).size / 1024).toFixed(0)} KiB`;
const chunks = readdirSync(CLI_OUT).filter((name) => name.endsWith('.mjs'));
console.log(
  `built dist/register/index.js (${kib('dist/register/index.js')}), dist/cli/index.mjs (${kib(join(CLI_OUT, 'index.mjs'))}, + ${chunks.length - 1} chunks loaded per command), dist/console/app.js (${kib('dist/console/app.js')})`,
);
