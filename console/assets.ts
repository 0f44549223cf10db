/**
 * The page's files, read from the package on disk at start (nothing is fetched at run time): `console/static/`
 * (HTML, CSS) and the client script `npm run build` bundles into `dist/console/app.js`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type Asset = { body: Buffer; type: string };

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
};

/** The package root: the folder with `console/static/index.html`, found from this module (source or CLI bundle). */
export const consoleRoot = (): string => {
  // __dirname exists in the CommonJS bundle and under vitest; the working directory is the fallback.
  const start = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (let dir = start, depth = 0; depth < 6; dir = dirname(dir), depth += 1) {
    if (existsSync(join(dir, 'console', 'static', 'index.html'))) return dir;
  }
  return process.cwd();
};

/** Reads the three files; a missing client bundle is a one-line error that says how to make it. */
export const loadAssets = (root = consoleRoot()): Map<string, Asset> => {
  const files = {
    'index.html': join(root, 'console', 'static', 'index.html'),
    'app.css': join(root, 'console', 'static', 'app.css'),
    'app.js': join(root, 'dist', 'console', 'app.js'),
  };
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(files)) {
    if (!existsSync(file)) throw new Error(`Expected the console's ${name} at ${file}: run \`npm run build\` first`);
    assets.set(name, { body: readFileSync(file), type: TYPES[name] as string });
  }
  return assets;
};
