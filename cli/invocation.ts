/**
 * How the user ran the CLI, so every hint it prints is a command that works where they typed it: `npx algolib …`
 * under npx or an npm script (in a clone the bin is not on PATH), `algolib …` through an installed bin,
 * `node bin/algolib.js …` when they ran the file.
 */
import { basename, isAbsolute, relative } from 'node:path';

/**
 * The command prefix that reaches this CLI again, from npm's environment and `process.argv[1]`.
 *
 * @example
 * ```ts
 * invokedAs({ npm_command: 'exec' }, '/home/me/.npm/_npx/1/node_modules/.bin/algolib'); // 'npx algolib'
 * invokedAs({}, '/usr/local/bin/algolib'); // 'algolib'
 * invokedAs({}, '/src/algolib-pipeline/bin/algolib.js', '/src/algolib-pipeline'); // 'node bin/algolib.js'
 * ```
 */
export const invokedAs = (
  env: Record<string, string | undefined>,
  script: string | undefined,
  cwd: string = process.cwd(),
): string => {
  // npx sets npm_command=exec; `npm start`/`npm run` set it to the script's command. Both mean a clone or a
  // project where the bin lives in node_modules/.bin, which `npx algolib` reaches and a bare `algolib` does not.
  if (env.npm_command !== undefined || env.npm_lifecycle_event !== undefined) return 'npx algolib';
  if (script === undefined || basename(script) === 'algolib') return 'algolib';
  const path = relative(cwd, script);
  return `node ${path.startsWith('..') || isAbsolute(path) ? script : path}`;
};

let current = 'algolib';

/** Remembers the prefix for this process (main.ts calls it once at start). */
export const setInvocation = (prefix: string): void => {
  current = prefix;
};

/**
 * `algolib <rest>` in the form the user invoked.
 *
 * @example
 * ```ts
 * hint('status library/face/face-1.2.0.tar.gz --local'); // 'npx algolib status library/face/face-1.2.0.tar.gz --local'
 * ```
 */
export const hint = (rest: string): string => `${current} ${rest}`.trimEnd();
