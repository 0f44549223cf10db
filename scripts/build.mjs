// Builds the register function (one CommonJS file) and the CLI (ES modules split per command, and validate alone as
// one CommonJS file) with esbuild: `npm run build`.

import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { CLI_OUT, cliModulesBuild, cliValidateBuild } from './cli-bundle.mjs';
import { registerBuilds } from './register-bundle.mjs';

// Chunks of an earlier build have other hashes: start from an empty folder so that stale ones do not pile up.
rmSync(CLI_OUT, { recursive: true, force: true });
rmSync('dist/register', { recursive: true, force: true });
await Promise.all([
  // The function's options live in register-bundle.mjs, where the bench builds its variants from too.
  ...registerBuilds('dist/register').map((options) => build(options)),
  // The CLI's ES modules (scripts/cli-bundle.mjs says how they are split).
  build(cliModulesBuild()),
  build(cliValidateBuild()),
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
  `built dist/register/index.js (${kib('dist/register/index.js')}), dist/cli/index.mjs (${kib(join(CLI_OUT, 'index.mjs'))}, + ${chunks.length - 1} chunks loaded per command), dist/cli/validate.cjs (${kib(join(CLI_OUT, 'validate.cjs'))}), dist/console/app.js (${kib('dist/console/app.js')})`,
);
