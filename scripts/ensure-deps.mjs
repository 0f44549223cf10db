// Runs before `npm start` and `npm test`: on a fresh clone, installs exactly the lockfile first, so the README's
// quick start is two commands. Does nothing when the dependencies are already installed.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = ['esbuild', 'vitest', 'ali-oss', '@alicloud/pop-core', 'typescript'];
const missing = needed.filter((name) => !existsSync(`node_modules/${name}/package.json`));
if (missing.length > 0) {
  console.error(`Installing dependencies (missing: ${missing.join(', ')}) with npm ci…`);
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
