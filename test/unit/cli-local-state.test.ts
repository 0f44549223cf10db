import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findStateFile, removeUserPointer, userPointerFile, writeUserPointer } from '../../cli/local-state.ts';

let root: string;
const env = () => ({ XDG_STATE_HOME: join(root, 'state') });

/** A state file whose OSS endpoint is `endpoint`, at `folder/.algolib/dev.json`. */
const stateAt = (folder: string, endpoint: string): string => {
  mkdirSync(join(folder, '.algolib'), { recursive: true });
  const file = join(folder, '.algolib', 'dev.json');
  writeFileSync(file, JSON.stringify({ oss: { endpoint } }));
  return file;
};

const RUNNING = 'http://127.0.0.1:1001';
const STOPPED = 'http://127.0.0.1:1002';
const isAlive = async (endpoint: string) => endpoint === RUNNING;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'algolib-local-state-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('findStateFile', () => {
  it('takes the nearest running state file in the folder or a parent', async () => {
    const project = join(root, 'project');
    const file = stateAt(project, RUNNING);
    mkdirSync(join(project, 'a', 'b'), { recursive: true });

    expect(await findStateFile(join(project, 'a', 'b'), env(), isAlive)).toEqual({ found: true, stateFile: file });
  });

  it('skips a stale one (its cloud does not answer) and falls back to the per-user pointer', async () => {
    const stale = stateAt(join(root, 'old'), STOPPED);
    const running = stateAt(join(root, 'project'), RUNNING);
    writeUserPointer(env(), running);

    expect(await findStateFile(join(root, 'old'), env(), isAlive)).toEqual({ found: true, stateFile: running });
    expect(await findStateFile(join(root, 'old'), { XDG_STATE_HOME: join(root, 'nothing') }, isAlive)).toMatchObject({
      found: false,
      stale: [stale],
    });
  });

  it('says where it looked when nothing runs', async () => {
    expect(await findStateFile(root, env(), isAlive)).toEqual({
      found: false,
      looked: [
        `${join(root, '.algolib', 'dev.json')} and its parent folders`,
        join(root, 'state', 'algolib', 'dev.json'),
      ],
      stale: [],
    });
  });
});

describe('the per-user pointer', () => {
  it('lives under XDG_STATE_HOME, else ~/.local/state', () => {
    expect(userPointerFile({ XDG_STATE_HOME: '/x' })).toBe('/x/algolib/dev.json');
    expect(userPointerFile({ HOME: '/home/me' })).toBe('/home/me/.local/state/algolib/dev.json');
  });

  it('is removed only by the dev it points to', () => {
    const mine = stateAt(join(root, 'mine'), RUNNING);
    const theirs = stateAt(join(root, 'theirs'), RUNNING);
    writeUserPointer(env(), theirs);

    removeUserPointer(env(), mine);
    expect(JSON.parse(readFileSync(userPointerFile(env()), 'utf8')).stateFile).toBe(theirs);
    removeUserPointer(env(), theirs);
    expect(() => readFileSync(userPointerFile(env()))).toThrow(/ENOENT/);
  });
});
