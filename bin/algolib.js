#!/usr/bin/env node

// The CLI is esbuild's ES modules (scripts/build.mjs); this file only points at them (and says how to make them
// when they are missing).
const bundle = require('node:path').join(__dirname, '..', 'dist', 'cli', 'index.mjs');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write(`error: ${bundle} does not exist: run \`npm run build\` first\n`);
  process.exit(2);
}
import(require('node:url').pathToFileURL(bundle).href);
