#!/usr/bin/env node

// The CLI is one esbuild bundle; this file only points at it (and says how to make it when it is missing).
const bundle = require('node:path').join(__dirname, '..', 'dist', 'cli', 'index.js');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write(`error: ${bundle} does not exist: run \`npm run build\` first\n`);
  process.exit(2);
}
require(bundle);
