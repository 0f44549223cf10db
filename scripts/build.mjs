// Builds the register function and the CLI into single CommonJS files with esbuild: `npm run build`.

import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  // ali-oss requires proxy-agent only when a proxy option is set; it is not installed and never used here.
  external: ['proxy-agent'],
  legalComments: 'none',
};

await Promise.all([
  build({ ...common, entryPoints: ['functions/register/index.ts'], outfile: 'dist/register/index.js', minify: true }),
  build({ ...common, entryPoints: ['cli/index.ts'], outfile: 'dist/cli/index.js', sourcemap: 'linked' }),
]);
// FC unpacks CodeUri as the code root: mark it CommonJS whatever a parent package.json says.
mkdirSync('dist/register', { recursive: true });
writeFileSync('dist/register/package.json', '{ "type": "commonjs" }\n');
// The FC emulator forks each function instance from this plain CommonJS file, found beside the module that starts it.
copyFileSync('local/fc/instance-runner.cjs', 'dist/cli/instance-runner.cjs');
const kib = (file) => `${(statSync(file).size / 1024).toFixed(0)} KiB`;
console.log(
  `built dist/register/index.js (${kib('dist/register/index.js')}), dist/cli/index.js (${kib('dist/cli/index.js')})`,
);
