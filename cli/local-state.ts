/**
 * Finding the running local cloud from any folder. `algolib dev` writes its state file (`.algolib/dev.json` in the
 * folder it runs in) and, for the default state file, a per-user pointer to it
 * (`$XDG_STATE_HOME/algolib/dev.json`, else `~/.local/state/algolib/dev.json`). A `--local` command without
 * `--state-file` takes the nearest `.algolib/dev.json` in the working folder or a parent whose cloud answers, else
 * the one the pointer names; state files whose cloud does not answer (left by a crash) are skipped and named.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const PROJECT_STATE_FILE = '.algolib/dev.json';

type Env = Record<string, string | undefined>;

/** The per-user pointer `algolib dev` writes: where the running local cloud's state file is. */
export const userPointerFile = (env: Env): string =>
  join(env.XDG_STATE_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.local', 'state'), 'algolib', 'dev.json');

/** True when something accepts connections at the endpoint's port (a state file left by a crashed run does not). */
export const answers = (endpoint: string): Promise<boolean> =>
  new Promise((done) => {
    const url = new URL(endpoint);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const finish = (result: boolean) => {
      socket.destroy();
      done(result);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });

const readJson = (file: string): unknown => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
};

const ossEndpointOf = (state: unknown): string | undefined => {
  const endpoint = (state as { oss?: { endpoint?: unknown } } | undefined)?.oss?.endpoint;
  return typeof endpoint === 'string' ? endpoint : undefined;
};

export type FoundState =
  | { found: true; stateFile: string }
  | {
      found: false;
      /** Where it looked, for the error line. */
      looked: string[];
      /** State files whose cloud did not answer. */
      stale: string[];
    };

/** Every `.algolib/dev.json` from `cwd` up to the root, nearest first. */
const projectCandidates = (cwd: string): string[] => {
  const candidates: string[] = [];
  // Bounded by the depth of the path: dirname of the root is the root.
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    candidates.push(join(dir, PROJECT_STATE_FILE));
    if (dirname(dir) === dir) return candidates;
  }
};

/**
 * The state file of the running local cloud nearest to `cwd`, or where it looked.
 *
 * @example
 * ```ts
 * const found = await findStateFile(process.cwd(), process.env);
 * if (found.found) readStateFile(found.stateFile);
 * ```
 */
export const findStateFile = async (
  cwd: string,
  env: Env,
  isAlive: (endpoint: string) => Promise<boolean> = answers,
): Promise<FoundState> => {
  const stale: string[] = [];
  const alive = async (file: string): Promise<boolean> => {
    if (!existsSync(file)) return false;
    const endpoint = ossEndpointOf(readJson(file));
    if (endpoint !== undefined && (await isAlive(endpoint))) return true;
    stale.push(file);
    return false;
  };
  for (const candidate of projectCandidates(cwd)) {
    if (await alive(candidate)) return { found: true, stateFile: candidate };
  }
  const pointer = userPointerFile(env);
  const named = (readJson(pointer) as { stateFile?: unknown } | undefined)?.stateFile;
  if (typeof named === 'string' && (await alive(named))) return { found: true, stateFile: named };
  return { found: false, looked: [`${join(resolve(cwd), PROJECT_STATE_FILE)} and its parent folders`, pointer], stale };
};

/** Points the per-user pointer at `stateFile` (mode 0600: it names where credentials are). */
export const writeUserPointer = (env: Env, stateFile: string): string => {
  const pointer = userPointerFile(env);
  mkdirSync(dirname(pointer), { recursive: true, mode: 0o700 });
  writeFileSync(pointer, `${JSON.stringify({ stateFile: resolve(stateFile), pid: process.pid }, null, 2)}\n`, {
    mode: 0o600,
  });
  return pointer;
};

/** Removes the pointer, unless another `algolib dev` has pointed it elsewhere since. */
export const removeUserPointer = (env: Env, stateFile: string): void => {
  const pointer = userPointerFile(env);
  const named = (readJson(pointer) as { stateFile?: unknown } | undefined)?.stateFile;
  if (named === resolve(stateFile)) rmSync(pointer, { force: true });
};
