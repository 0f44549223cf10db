#!/usr/bin/env node

// The CLI is esbuild's output (scripts/build.mjs); this file only points at it (and says how to make it when it is
// missing). `validate` runs from a CommonJS file of its own, which starts faster (cli/validate-main.ts says why);
// every other command from the ES modules.
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'cli', process.argv[2] === 'validate' ? 'validate.cjs' : 'index.mjs');
if (!require('node:fs').existsSync(bundle)) {
  process.stderr.write(`error: ${bundle} does not exist: run \`npm run build\` first\n`);
  process.exit(2);
}
if (bundle.endsWith('.cjs')) require(bundle);
else import(require('node:url').pathToFileURL(bundle).href);
