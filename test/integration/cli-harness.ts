/**
 * What the CLI's integration tests share: a local cloud reached through a state file in a temporary folder, an OSS
 * client on it, and the CLI spawned as a user runs it (`node bin/algolib.js …`, pipes for stdout and stderr).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OSS from 'ali-oss';
import { afterAll, beforeAll } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { CLI, type CliRun, type Started, startCli as startFixtureCli } from '../fixtures/run-cli.ts';

export { CLI, type Started };

export const EXAMPLE_MANIFEST = JSON.parse(
  readFileSync(resolve('examples/face-detector-1.0.0.manifest.json'), 'utf8'),
) as Record<string, unknown>;

export type CliCloud = { dir: string; stateFile: string; cloud: LocalCloud; client: OSS };

/**
 * Starts a local cloud for the test file (before all its tests; closed and its folder removed after them).
 * The fields are filled once `beforeAll` has run.
 */
export const useCliCloud = (name: string): CliCloud => {
  const shared = {} as CliCloud;
  beforeAll(async () => {
    shared.dir = mkdtempSync(join(tmpdir(), `algolib-${name}-`));
    shared.stateFile = join(shared.dir, 'dev.json');
    shared.cloud = await startLocalCloud({ stateFile: shared.stateFile, dataDir: join(shared.dir, 'cloud') });
    const { endpoint, region, bucket, accessKeyId, accessKeySecret } = shared.cloud.state.oss;
    shared.client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
  });
  afterAll(async () => {
    await shared.cloud?.close();
    if (shared.dir) rmSync(shared.dir, { recursive: true, force: true });
  });
  return shared;
};

/** Starts the CLI with exactly `env`. */
export const startCli = (args: string[], env: Record<string, string>, cwd = process.cwd()): Started =>
  startFixtureCli(args, { env, cwd });

export type Run = CliRun;

/** Runs the CLI to completion with exactly `env`. */
export const runCli = async (args: string[], env: Record<string, string>, cwd = process.cwd()): Promise<Run> => {
  const started = startCli(args, env, cwd);
  const code = await started.exited;
  return { code, stdout: started.stdout(), stderr: started.stderr() };
};

/** Bounded: 400 × 50 ms at most. */
export const until = async (ready: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !ready(); i += 1) await new Promise((wait) => setTimeout(wait, 50));
  if (!ready()) throw new Error('Expected the condition within 20 s');
};
