// Builds the register function and the CLI into single CommonJS files with esbuild: `npm run build`.

import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { commonOptions, registerBuilds } from './register-bundle.mjs';

await Promise.all([
  // The function's options live in register-bundle.mjs, where the bench builds its variants from too.
  ...registerBuilds('dist/register').map((options) => build(options)),
  build({
    ...commonOptions,
    entryPoints: ['cli/index.ts'],
    outfile: 'dist/cli/index.js',
    sourcemap: 'linked',
    // The FC emulator falls back to __dirname when import.meta.url is empty, as it is in this CommonJS bundle.
    logOverride: { 'empty-import-meta': 'silent' },
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
copyFileSync('local/fc/instance-runner.cjs', 'dist/cli/instance-runner.cjs');
const kib = (file) => `${(statSync(file).size / 1024).toFixed(0)} KiB`;
console.log(
  `built dist/register/index.js (${kib('dist/register/index.js')}, + iconv-lite.js ${kib('dist/register/iconv-lite.js')}), dist/cli/index.js (${kib('dist/cli/index.js')}), dist/console/app.js (${kib('dist/console/app.js')})`,
);
