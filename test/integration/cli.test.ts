/**
 * The `algolib` CLI as a user runs it: `node bin/algolib.js …` in a child process (stdout and stderr are pipes, not
 * terminals) against a local cloud started here, reached through its state file (`--local --state-file`) or, for
 * the cloud code path, through `--endpoint` and the ALIBABA_CLOUD_* variables. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type OSS from 'ali-oss';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.ts';
import { crc64 } from '../../shared/crc64.ts';
import type { LibraryRecord, LibraryUpload } from '../../shared/library-record.ts';
import type { StatusDocument } from '../../shared/status.ts';
import { CLI, EXAMPLE_MANIFEST, type Run, runCli, useCliCloud } from './cli-harness.ts';

const EXAMPLE_PACKAGE = resolve('examples/face-detector-1.0.0.tar.gz');
const shared = useCliCloud('cli-test');
let dir: string;
let stateFile: string;
let cloud: LocalCloud;
let client: OSS;

beforeAll(() => {
  ({ dir, stateFile, cloud, client } = shared);
});

/**
 * Only what the CLI needs from the environment: no ALIBABA_CLOUD_* unless a test passes them, and a per-user state
 * folder of this test's own, so no `algolib dev` the machine runs is found.
 */
const baseEnv = () => ({
  PATH: process.env.PATH ?? '',
  HOME: dir,
  XDG_STATE_HOME: join(dir, 'xdg-state'),
  NO_COLOR: '1',
});

/** Runs the CLI to completion with the base environment plus `env`. */
const algolib = (args: string[], env: Record<string, string> = {}, cwd = process.cwd()): Promise<Run> =>
  runCli(args, { ...baseEnv(), ...env }, cwd);

/** Starts the CLI (killed after 60 s, so a hang fails the test instead of stalling it), collecting its output. */
const startAlgolib = (args: string[], env: Record<string, string> = {}) => {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...baseEnv(), ...env },
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const exited = new Promise<Run>((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, ...output }));
  });
  return { child, output, exited };
};

const local = () => ['--local', '--state-file', stateFile];

/** `size` bytes that start as gzip does (1f 8b), which is all publish checks before uploading. */
const gzipLike = (size: number) => Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(size - 2)]);

let sequence = 0;
/** A package file and its manifest under a fresh library name, so tests share one cloud without sharing names. */
const newPackage = (options: { manifest?: Record<string, unknown>; bytes?: Buffer; version?: string } = {}) => {
  sequence += 1;
  const name =
    options.manifest?.name === undefined
      ? `cli-${sequence}-${randomBytes(3).toString('hex')}`
      : String(options.manifest.name);
  const version = options.version ?? '1.0.0';
  const stem = `${name}-${version}`;
  const packageFile = join(dir, `${stem}.tar.gz`);
  const manifestFile = join(dir, `${stem}.manifest.json`);
  const bytes = options.bytes ?? gzipLike(300);
  writeFileSync(packageFile, bytes);
  const manifest = { ...EXAMPLE_MANIFEST, name, version, ...options.manifest };
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  return {
    name,
    version,
    packageFile,
    manifestFile,
    bytes,
    packageKey: `library/${name}/${stem}.tar.gz`,
    manifestKey: `library/${name}/${stem}.manifest.json`,
  };
};

const statusOf = (run: Run) => JSON.parse(run.stdout) as StatusDocument;

/** What a one-line, actionable error run looks like: exit 2, one `error:` line, no stack trace. */
const expectOneLineError = (run: Run, pattern: RegExp) => {
  expect(run.code).toBe(2);
  const lines = run.stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(/^error: /);
  expect(lines.at(-1)).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
};

/** A port nothing listens on: bound once, then released. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  await new Promise<void>((closed) => server.close(() => closed()));
  return port;
};

describe('algolib publish', () => {
  it('registers a package and prints only the status document with --json (exit 0)', async () => {
    const pkg = newPackage();

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--wait', '--json']);

    expect(run.code).toBe(0);
    const status = statusOf(run);
    expect(status).toMatchObject({
      schemaVersion: 1,
      state: 'REGISTERED',
      name: pkg.name,
      version: '1.0.0',
      created: true,
    });
    expect(status.algoLibId).toMatch(/^\d+$/);
    expect(status.package.key).toBe(pkg.packageKey);
    expect(run.stderr).toContain(`registered ${pkg.name}@1.0.0: AlgoLibId ${status.algoLibId}`);
  });

  it('rides out transient OSS errors while uploading and waiting (a release job must not fail on one 503)', async () => {
    const pkg = newPackage();
    cloud.oss.faults.set({
      seed: 3,
      rules: [
        { action: 'PutObject', kind: 'unavailable', times: 2 },
        { action: 'GetObject', kind: 'reset', times: 2 },
      ],
    });

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--wait', '--json']).finally(() =>
      cloud.oss.faults.set({ rules: [] }),
    );

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
    expect(cloud.oss.faults.injected()).toMatchObject({ 'PutObject:unavailable': 2, 'GetObject:reset': 2 });
  });

  it('draws no progress bar or spinner when stdout is not a terminal', async () => {
    const pkg = newPackage();

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--wait']);

    expect(run.code).toBe(0);
    const output = run.stdout + run.stderr;
    // Redrawing needs carriage returns or escape sequences; the bar's own words are "%" and "left".
    for (const mark of ['\r', '\u001b[', '%', ' left']) expect(output).not.toContain(mark);
    expect(run.stdout).toContain(`uploaded oss://${cloud.state.oss.bucket}/${pkg.packageKey}`);
    expect(run.stdout).toContain(`uploaded oss://${cloud.state.oss.bucket}/${pkg.manifestKey}`);
  });

  it('uploads the manifest last and fills package from the file; the CRC-64 it computed is the one OSS reports', async () => {
    const pkg = newPackage();

    const run = await algolib(['publish', pkg.packageFile, ...local()]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `status: oss://${cloud.state.oss.bucket}/status/library/${pkg.name}/${pkg.name}-1.0.0.json`,
    );
    const uploaded = JSON.parse((await client.get(pkg.manifestKey)).content.toString('utf8')) as {
      package: Record<string, unknown>;
    };
    const head = await client.head(pkg.packageKey);
    const reported = (head.res.headers as Record<string, string>)['x-oss-hash-crc64ecma'];
    expect(uploaded.package).toEqual({
      size: pkg.bytes.length,
      crc64: crc64(pkg.bytes),
      sha256: createHash('sha256').update(pkg.bytes).digest('hex'),
    });
    expect(uploaded.package.crc64).toBe(reported);
    await cloud.idle();
  });

  it('uploads a package above the multipart threshold in parts, and it registers', async () => {
    const pkg = newPackage({ bytes: gzipLike(9 * 1024 * 1024) });
    const before = cloud.oss.counters().requests.UploadPart ?? 0;

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--part-size', '1MiB', '--wait', '--json']);

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
    expect((cloud.oss.counters().requests.UploadPart ?? 0) - before).toBe(9);
    const head = await client.head(pkg.packageKey);
    expect((head.res.headers as Record<string, string>)['x-oss-hash-crc64ecma']).toBe(crc64(pkg.bytes));
    expect(statusOf(run).package.crc64).toBe(crc64(pkg.bytes));
  });

  it('exits 1 with the error code when CityVisual rejects the library (REJECTED)', async () => {
    const pkg = newPackage({ manifest: { capabilities: ['HELICOPTER'] } });

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--wait', '--json']);

    expect(run.code).toBe(1);
    const status = statusOf(run);
    expect(status.state).toBe('REJECTED');
    expect(status.errors.map((error) => error.code)).toEqual(['InvalidCapabilities.ValueNotSupported']);
    expect(run.stderr).toContain('InvalidCapabilities.ValueNotSupported');
  });

  it('exits 1 when the name belongs to another folder (CONFLICT NAME_CONFLICT)', async () => {
    const first = newPackage();
    expect((await algolib(['publish', first.packageFile, ...local(), '--wait'])).code).toBe(0);
    const second = newPackage({ manifest: { name: first.name }, version: '2.0.0' });

    const args = ['publish', second.packageFile, ...local(), '--prefix', 'library/team-b/', '--wait', '--json'];

    const refused = await algolib(args);
    const answered = await algolib([...args, '--no-check']);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nothing was uploaded');
    expect(statusOf(refused)).toMatchObject({ state: 'CONFLICT', errors: [{ code: 'NAME_CONFLICT' }] });
    expect(answered.code).toBe(1);
    expect(statusOf(answered)).toMatchObject({ state: 'CONFLICT', errors: [{ code: 'NAME_CONFLICT' }] });
  });

  it('registers every release: created → updated → unchanged → VERSION_EXISTS → VERSION_DOWNGRADE', async () => {
    const v1 = newPackage({ version: '1.0.0' });
    const { name } = v1;
    const v2 = newPackage({ manifest: { name, capacity: 40 }, version: '1.1.0' });
    const publish = async (file: string, ...flags: string[]) => {
      const run = await algolib(['publish', file, ...local(), '--wait', '--json', ...flags]);
      return { code: run.code, status: statusOf(run), stderr: run.stderr };
    };

    const created = await publish(v1.packageFile);
    const updated = await publish(v2.packageFile);
    const unchanged = await publish(v2.packageFile);
    writeFileSync(
      v2.manifestFile,
      JSON.stringify({ ...JSON.parse(readFileSync(v2.manifestFile, 'utf8')), capacity: 41 }),
    );
    const exists = await publish(v2.packageFile);
    const existsAnswered = await publish(v2.packageFile, '--no-check');
    const older = newPackage({ manifest: { name }, version: '1.0.5' });
    const downgrade = await publish(older.packageFile);
    const downgradeAnswered = await publish(older.packageFile, '--no-check');

    expect(created).toMatchObject({ code: 0, status: { state: 'REGISTERED', change: 'created', created: true } });
    expect(updated).toMatchObject({
      code: 0,
      status: {
        state: 'REGISTERED',
        change: 'updated',
        algoLibId: created.status.algoLibId,
        previous: { version: '1.0.0', packageKey: v1.packageKey },
      },
    });
    expect(unchanged).toMatchObject({ code: 0, status: { state: 'REGISTERED', algoLibId: created.status.algoLibId } });
    expect(unchanged.stderr).toContain('already registered, unchanged');
    // Refused before any byte was sent, with the function's own message; and the function's answer when sent anyway.
    expect(exists).toMatchObject({ code: 1, status: { state: 'CONFLICT', errors: [{ code: 'VERSION_EXISTS' }] } });
    expect(exists.stderr).toContain('nothing was uploaded');
    expect(existsAnswered).toMatchObject({
      code: 1,
      status: { state: 'CONFLICT', errors: [{ code: 'VERSION_EXISTS', message: exists.status.errors[0]?.message }] },
    });
    expect(downgrade).toMatchObject({
      code: 1,
      status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] },
    });
    expect(downgradeAnswered).toMatchObject({
      code: 1,
      status: { state: 'CONFLICT', errors: [{ code: 'VERSION_DOWNGRADE' }] },
    });
    expect(downgradeAnswered.status.errors[0]?.message).toContain('registered 1.1.0');
    // Seven CLI runs, each a process start, uploads and a wait: seconds each on a loaded 2-core machine.
  }, 120_000);

  it('exits 1 before uploading anything when the manifest does not match the package', async () => {
    const pkg = newPackage({ manifest: { package: { size: 1, sha256: '0'.repeat(64) } } });

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--wait']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('package.size: Expected the package file to be 1 bytes as the manifest says, got 300');
    expect(run.stdout).toContain('package.sha256:');
    expect(run.stdout).toContain('nothing was uploaded');
    await expect(client.head(pkg.packageKey)).rejects.toMatchObject({ status: 404 });
  });

  it('exits 3 when the registration does not finish within --timeout', async () => {
    // Outside the trigger's prefix the function never runs, so no answer can come.
    const pkg = newPackage();

    const run = await algolib([
      'publish',
      pkg.packageFile,
      ...local(),
      '--prefix',
      'elsewhere/',
      '--wait',
      '--timeout',
      '1',
      '--json',
    ]);

    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Timed out after 1s .*no status object yet/);
  });

  it('never starts a throwaway cloud: without a running one, --local says where it looked and how to start one (exit 2)', async () => {
    const pkg = newPackage();
    const nowhere = mkdtempSync(join(dir, 'nowhere-'));

    const run = await algolib(['publish', pkg.packageFile, '--local', '--wait'], {}, nowhere);

    expectOneLineError(
      run,
      /No running local cloud: looked for .*\.algolib\/dev\.json and its parent folders, then .*xdg-state\/algolib\/dev\.json/,
    );
    expect(run.stderr).toMatch(/Start one with `node \S+algolib\.js dev` in another terminal/);
    expect(run.stderr).not.toContain('starting a local cloud');
    await expect(client.head(pkg.packageKey)).rejects.toMatchObject({ status: 404 });
  });

  it('finds the running local cloud from a subfolder of the project (its .algolib/dev.json in a parent)', async () => {
    const pkg = newPackage();
    const project = mkdtempSync(join(dir, 'project-'));
    mkdirSync(join(project, '.algolib'));
    mkdirSync(join(project, 'packages', 'face'), { recursive: true });
    copyFileSync(stateFile, join(project, '.algolib', 'dev.json'));

    const run = await algolib(
      ['publish', pkg.packageFile, '--local', '--wait', '--json'],
      {},
      join(project, 'packages', 'face'),
    );

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
  });

  it('finds it from any folder through the per-user pointer, skipping a stale state file on the way', async () => {
    const pkg = newPackage();
    const elsewhere = mkdtempSync(join(dir, 'elsewhere-'));
    mkdirSync(join(elsewhere, '.algolib'));
    // Left by a crashed `dev`: nothing answers at its endpoint.
    const stale = JSON.parse(readFileSync(stateFile, 'utf8'));
    stale.oss.endpoint = `http://127.0.0.1:${await closedPort()}`;
    writeFileSync(join(elsewhere, '.algolib', 'dev.json'), JSON.stringify(stale));
    const xdg = mkdtempSync(join(dir, 'xdg-'));
    mkdirSync(join(xdg, 'algolib'));
    writeFileSync(join(xdg, 'algolib', 'dev.json'), JSON.stringify({ stateFile }));

    const run = await algolib(
      ['publish', pkg.packageFile, '--local', '--wait', '--json'],
      { XDG_STATE_HOME: xdg },
      elsewhere,
    );

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
  });

  it('refuses a package that is not gzip before uploading anything (exit 1)', async () => {
    const pkg = newPackage({ bytes: Buffer.from('just some text, not an archive\n') });

    const run = await algolib(['publish', pkg.packageFile, ...local(), '--wait']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `invalid ${pkg.packageFile}: it is not gzip: a .tar.gz starts with the bytes 1f 8b, this one with 6a 75 ("ju": text?); nothing was uploaded`,
    );
    await expect(client.head(pkg.packageKey)).rejects.toMatchObject({ status: 404 });
  });

  it('warns when the file name and the manifest disagree, and publishes as the manifest says', async () => {
    const pkg = newPackage();
    const weird = join(dir, 'weird-9.9.9.tar.gz');
    copyFileSync(pkg.packageFile, weird);
    copyFileSync(pkg.manifestFile, join(dir, 'weird-9.9.9.manifest.json'));

    const run = await algolib(['publish', weird, ...local(), '--wait', '--json']);

    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `warning: the file name says weird-9.9.9, the manifest ${pkg.name}@1.0.0: publishing as ${pkg.name}@1.0.0`,
    );
    expect(statusOf(run).package.key).toBe(`library/${pkg.name}/weird-9.9.9.tar.gz`);
  });

  it('prints hints in the form the user invoked: `npx algolib` under npx, `node <file>` when run as a file', async () => {
    const pkg = newPackage();
    const other = newPackage();

    const npx = await algolib(['publish', pkg.packageFile, ...local()], { npm_command: 'exec' });
    const node = await algolib(['publish', other.packageFile, ...local()]);
    const help = await algolib(['status', '--help'], { npm_command: 'exec' });

    expect(npx.stdout).toContain(
      `(read it with \`npx algolib status ${pkg.packageKey} --local --state-file ${stateFile}\`)`,
    );
    expect(node.stdout).toContain(`(read it with \`node bin/algolib.js status ${other.packageKey} --local`);
    expect(help.stdout).toMatch(/^Usage: npx algolib status <package>/);
    expect(help.stdout).toContain('  npx algolib status face-detector@1.0.0 --local');
    await cloud.idle();
  });

  it('is a usage error (exit 2) to give an unknown flag or a bad --timeout', async () => {
    const unknown = await algolib(['publish', EXAMPLE_PACKAGE, '--local', '--bogus']);
    const timeout = await algolib(['publish', EXAMPLE_PACKAGE, '--local', '--wait', '--timeout', 'abc']);

    expectOneLineError(unknown, /Unknown option '--bogus'.*algolib(\.js)? publish --help/);
    expectOneLineError(timeout, /Expected `--timeout` to be a positive number of seconds, got abc/);
  });
});

describe('errors a person can act on: one line, exit 2, no stack trace', () => {
  const cloudTarget = () => ['--endpoint', cloud.state.oss.endpoint, '--bucket', cloud.state.oss.bucket];
  const credentials = (secret = cloud.state.oss.accessKeySecret) => ({
    ALIBABA_CLOUD_ACCESS_KEY_ID: cloud.state.oss.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret,
  });

  it('names a missing package file', async () => {
    expectOneLineError(
      await algolib(['publish', join(dir, 'missing-1.0.0.tar.gz'), ...local()]),
      /missing-1\.0\.0\.tar\.gz: it does not exist/,
    );
  });

  it('names a manifest that does not parse', async () => {
    const pkg = newPackage();
    writeFileSync(pkg.manifestFile, '{ "name": ');

    expectOneLineError(await algolib(['publish', pkg.packageFile, ...local()]), /Cannot parse the manifest .* as JSON/);
  });

  it('says the secret does not match (403) and never prints it', async () => {
    const pkg = newPackage();
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;

    const run = await algolib(['publish', pkg.packageFile, ...cloudTarget()], credentials(wrong));

    expectOneLineError(run, /403 SignatureDoesNotMatch.*ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });

  it('says the endpoint refused the connection', async () => {
    const pkg = newPackage();
    const port = await closedPort();

    const run = await algolib(
      ['publish', pkg.packageFile, '--endpoint', `http://127.0.0.1:${port}`, '--bucket', 'algolib-local'],
      credentials(),
    );

    expectOneLineError(run, /ECONNREFUSED.*--endpoint/);
  });

  it('says the bucket does not exist', async () => {
    const pkg = newPackage();

    expectOneLineError(
      await algolib(['publish', pkg.packageFile, ...local(), '--bucket', 'no-such-bucket']),
      /no-such-bucket does not exist .*NoSuchBucket/,
    );
  });

  it('names the missing credential variable', async () => {
    const pkg = newPackage();

    expectOneLineError(
      await algolib(['publish', pkg.packageFile, ...cloudTarget()]),
      /ALIBABA_CLOUD_ACCESS_KEY_ID is not set/,
    );
  });

  it('reaches the cloud code path with the ALIBABA_CLOUD_* variables', async () => {
    const pkg = newPackage();

    const run = await algolib(['publish', pkg.packageFile, ...cloudTarget(), '--wait', '--json'], credentials());

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
  });
});

describe('algolib validate', () => {
  it('exits 0 for a valid manifest checked against its package', async () => {
    const run = await algolib([
      'validate',
      resolve('examples/face-detector-1.0.0.manifest.json'),
      '--package',
      EXAMPLE_PACKAGE,
    ]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('valid');
    expect(run.stdout).toContain(`crc64 ${crc64(readFileSync(EXAMPLE_PACKAGE))}`);
  });

  it('exits 1 with every error on its own line with its path', async () => {
    const pkg = newPackage({ manifest: { capacity: 0, extra: true } });
    const manifest = JSON.parse(readFileSync(pkg.manifestFile, 'utf8'));
    manifest.objects[0].fields[1].name = '9lives';
    writeFileSync(pkg.manifestFile, JSON.stringify(manifest));

    const run = await algolib(['validate', pkg.manifestFile]);

    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n').slice(1);
    expect(lines.map((line) => line.trim().split(':')[0]).sort()).toEqual([
      'capacity',
      'extra',
      'objects.0.fields.1.name',
    ]);
    expect(run.stdout).toContain("Expected `capacity` to be an integer from 1 to 50 (CityVisual's limit), got 0");
    expect(run.stdout).toContain(
      'Expected `objects.0.fields.1.name` to start with a letter and contain only letters, digits and `_`, 1–64 characters, got "9lives"',
    );
  });

  it('exits 0 without --package and says which package fields publish fills (as publish accepts it)', async () => {
    const run = await algolib(['validate', resolve('examples/face-detector-1.0.0.manifest.json')]);
    const json = await algolib(['validate', resolve('examples/face-detector-1.0.0.manifest.json'), '--json']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'package: filled by `algolib publish` (size, crc64, sha256); `--package <file.tar.gz>` computes and checks them now',
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, errors: [], toFill: ['size', 'crc64', 'sha256'] });
  });

  it('suggests the near key for a misspelt one', async () => {
    const pkg = newPackage();
    const manifest = JSON.parse(readFileSync(pkg.manifestFile, 'utf8'));
    manifest.capabilites = manifest.capabilities;
    delete manifest.capabilities;
    writeFileSync(pkg.manifestFile, JSON.stringify(manifest));

    const run = await algolib(['validate', pkg.manifestFile]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'capabilites: Expected no key `capabilites`: manifest v1 does not define it; did you mean `capabilities`?',
    );
  });

  it('exits 2 with the line and column of a JSON syntax error', async () => {
    const file = join(dir, 'broken.manifest.json');
    writeFileSync(file, '{\n  "schemaVersion": 1,\n  "capabilities": ["FACE",]\n}\n');

    const run = await algolib(['validate', file]);

    expectOneLineError(run, /as JSON: line 3, column 27: expected a value, got `\]` \(a comma before `\]`\?\)/);
  });

  it('exits 1 when --package does not match what the manifest states', async () => {
    const pkg = newPackage();
    copyFileSync(EXAMPLE_PACKAGE, pkg.packageFile);
    const manifest = JSON.parse(readFileSync(pkg.manifestFile, 'utf8'));
    manifest.package = { size: 423, crc64: '1' };
    writeFileSync(pkg.manifestFile, JSON.stringify(manifest));

    const run = await algolib(['validate', pkg.manifestFile, '--package', pkg.packageFile, '--json']);

    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      valid: false,
      errors: [{ code: 'PACKAGE_CHECKSUM_MISMATCH', path: 'package.crc64' }],
    });
  });

  it('exits 2 on usage errors', async () => {
    expectOneLineError(await algolib(['validate']), /Expected <manifest>, got nothing/);
    expectOneLineError(await algolib(['validate', 'a.json', '--nope']), /Unknown option '--nope'/);
  });
});

describe('algolib status', () => {
  it('prints a found status (exit 0) and says when there is none (exit 1)', async () => {
    const pkg = newPackage();
    const published = await algolib(['publish', pkg.packageFile, ...local(), '--wait', '--json']);
    await cloud.idle();

    const found = await algolib(['status', pkg.packageKey, ...local()]);
    const json = await algolib(['status', pkg.manifestKey, ...local(), '--json']);
    const missing = await algolib(['status', 'library/nothing/nothing-1.0.0.tar.gz', ...local()]);

    expect(found.code).toBe(0);
    expect(found.stdout).toContain(`REGISTERED ${pkg.name}@1.0.0`);
    expect(found.stdout).toContain(`AlgoLibId      ${statusOf(published).algoLibId}`);
    expect(found.stdout).toMatch(/notifications {2}algolib\.registered to 127\.0\.0\.1:\d+: delivered/);
    expect(statusOf(json)).toMatchObject({ state: 'REGISTERED', algoLibId: statusOf(published).algoLibId });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('No status at');
  });
});

describe('algolib status: every way to name a package', () => {
  let pkg: ReturnType<typeof newPackage>;
  let registered: StatusDocument;

  beforeAll(async () => {
    pkg = newPackage();
    registered = statusOf(await algolib(['publish', pkg.packageFile, ...local(), '--wait', '--json']));
    await cloud.idle();
  });

  /** A library record as the function writes it (shared/library-record.ts), put straight into the bucket. */
  const putRecord = async (record: LibraryRecord) => {
    await client.put(`status/.libraries/${record.name}.json`, Buffer.from(JSON.stringify(record)));
  };
  const upload = (version: string, statusKey: string, at: string): LibraryUpload => ({
    version,
    packageKey: `library/x/x-${version}.tar.gz`,
    statusKey,
    state: 'REGISTERED',
    change: 'created',
    at,
  });

  it('takes the oss:// URL publish prints', async () => {
    const run = await algolib(['status', `oss://${cloud.state.oss.bucket}/${pkg.packageKey}`, ...local(), '--json']);

    expect(run.code).toBe(0);
    expect(statusOf(run).algoLibId).toBe(registered.algoLibId);
  });

  it('refuses an oss:// URL of another bucket than --bucket (exit 2)', async () => {
    expectOneLineError(
      await algolib(['status', `oss://other-bucket/${pkg.packageKey}`, ...local(), '--bucket', 'algolib-local']),
      /Expected one bucket, got other-bucket in .* and algolib-local from --bucket/,
    );
  });

  it('takes the local file that was published: the key it went to', async () => {
    const run = await algolib(['status', pkg.packageFile, ...local()]);

    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${pkg.packageFile} was published as ${pkg.packageKey}`);
    expect(run.stdout).toContain(`REGISTERED ${pkg.name}@1.0.0`);
  });

  it('takes name@version through the library record, and says what is missing (exit 1)', async () => {
    const statusKey = `status/${pkg.packageKey.replace(/\.tar\.gz$/, '.json')}`;
    await putRecord({
      schemaVersion: 1,
      name: pkg.name,
      algoLibId: registered.algoLibId as string,
      version: '1.0.0',
      package: { bucket: cloud.state.oss.bucket, key: pkg.packageKey },
      owner: { bucket: cloud.state.oss.bucket, folder: `library/${pkg.name}/` },
      latest: upload('1.0.0', statusKey, registered.updatedAt),
      history: [upload('1.0.0', statusKey, registered.updatedAt)],
      generation: 0,
      updatedAt: registered.updatedAt,
    });

    const found = await algolib(['status', `${pkg.name}@1.0.0`, ...local(), '--json']);
    const noVersion = await algolib(['status', `${pkg.name}@2.0.0`, ...local()]);
    const noName = await algolib(['status', 'nobody-here@1.0.0', ...local()]);

    expect(found.code).toBe(0);
    expect(statusOf(found).algoLibId).toBe(registered.algoLibId);
    expect(noVersion.code).toBe(1);
    expect(noVersion.stderr).toBe(`error: No upload of ${pkg.name}@2.0.0: the versions uploaded are 1.0.0\n`);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toMatch(
      /^error: No library named nobody-here at oss:\/\/algolib-local\/status\/\.libraries\/nobody-here\.json/,
    );
  });

  it('closes quietly when the reader stops early (`| head -1`): no EPIPE stack, exit 0', async () => {
    const child = spawn(process.execPath, [CLI, 'status', pkg.packageKey, ...local()], {
      env: baseEnv(),
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader is gone before the CLI writes its first line.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.once('close', done));

    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('shows what an upload changed: "updated from <version>" with the previous package', async () => {
    const key = `library/${pkg.name}/${pkg.name}-1.0.1.tar.gz`;
    const document: StatusDocument = {
      ...registered,
      version: '1.0.1',
      created: false,
      change: 'updated',
      previous: { version: '1.0.0', packageKey: pkg.packageKey },
      package: { ...registered.package, key },
    };
    await client.put(`status/library/${pkg.name}/${pkg.name}-1.0.1.json`, Buffer.from(JSON.stringify(document)));

    const run = await algolib(['status', key, ...local()]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`change         updated from 1.0.0 (oss://algolib-local/${pkg.packageKey})`);
  });
});

describe('algolib list', () => {
  it('prints one row per library record, and the same as a JSON array with --json', async () => {
    const statusPrefix = `list-${randomBytes(3).toString('hex')}/`;
    const at = '2026-12-01T10:00:00.000Z';
    const record = (name: string, version: string | undefined, state: LibraryUpload['state']): LibraryRecord => {
      const latest: LibraryUpload = {
        version: version ?? '0.1.0',
        packageKey: `library/${name}/${name}-${version ?? '0.1.0'}.tar.gz`,
        statusKey: `${statusPrefix}library/${name}/${name}-${version ?? '0.1.0'}.json`,
        state,
        at,
      };
      return {
        schemaVersion: 1,
        name,
        ...(version ? { version, algoLibId: '7', package: { bucket: 'algolib-local', key: latest.packageKey } } : {}),
        latest,
        history: [latest],
        generation: 0,
        updatedAt: at,
      };
    };
    for (const library of [record('road-sign', '1.0.1', 'REGISTERED'), record('face', undefined, 'REJECTED')]) {
      await client.put(`${statusPrefix}.libraries/${library.name}.json`, Buffer.from(JSON.stringify(library)));
    }

    const table = await algolib(['list', ...local(), '--status-prefix', statusPrefix]);
    const json = await algolib(['list', ...local(), '--status-prefix', statusPrefix, '--json']);
    const empty = await algolib(['list', ...local(), '--status-prefix', 'nothing-listed/', '--json']);

    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toEqual([
      'NAME       VERSION  ALGOLIBID  STATE       UPDATED               PACKAGE',
      'face       -        -          REJECTED    2026-12-01 10:00:00Z  -',
      'road-sign  1.0.1    7          REGISTERED  2026-12-01 10:00:00Z  library/road-sign/road-sign-1.0.1.tar.gz',
    ]);
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'face', version: null, algoLibId: null, packageKey: null, state: 'REJECTED', updatedAt: at },
      {
        name: 'road-sign',
        version: '1.0.1',
        algoLibId: '7',
        packageKey: 'library/road-sign/road-sign-1.0.1.tar.gz',
        state: 'REGISTERED',
        updatedAt: at,
      },
    ]);
    expect(JSON.parse(empty.stdout)).toEqual([]);
  });
});

describe('algolib replay', () => {
  it('re-invokes the function through the FC API and ends REGISTERED', async () => {
    const pkg = newPackage();
    expect((await algolib(['publish', pkg.packageFile, ...local(), '--wait'])).code).toBe(0);
    await cloud.idle();
    const invocations = cloud.fc.stats().invocations;

    const run = await algolib(['replay', pkg.packageKey, ...local(), '--wait', '--json']);
    await cloud.idle();

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
    expect(run.stderr).toMatch(/invoked algolib\/register asynchronously .* \(FC request id \S+\)/);
    expect(cloud.fc.stats().invocations).toBe(invocations + 1);
  });

  it('exits 1 for a pair that is not in the bucket', async () => {
    const run = await algolib(['replay', 'library/ghost/ghost-1.0.0.tar.gz', ...local()]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: Cannot replay library\/ghost\/ghost-1\.0\.0\.tar\.gz: .* not found \(publish the pair first\)\n$/,
    );
  });
});

/** Runs `algolib console` until it prints its URL, reads /api/libraries from it, then stops it with SIGINT. */
const runConsole = async (args: string[]) => {
  const { child, output, exited } = startAlgolib(['console', ...args]);
  // Bounded: 200 × 50 ms at most, and the child is killed at 60 s anyway.
  for (let i = 0; i < 200 && !/Press Ctrl-C/.test(output.stderr) && child.exitCode === null; i += 1)
    await new Promise((wait) => setTimeout(wait, 50));
  const url = /algolib console: (http:\S+)/.exec(output.stdout)?.[1];
  const librariesStatus = url ? (await fetch(new URL('/api/libraries', url))).status : undefined;
  child.kill('SIGINT');
  return { ...(await exited), url, librariesStatus };
};

describe('algolib console', () => {
  it('refuses --local without a running local cloud, and says how to get one', async () => {
    const run = await algolib(['console', '--state-file', join(dir, 'no-such-state.json')]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^error: No local cloud state file at .*no-such-state\.json: is `.*dev --state-file .*` running\?/,
    );
  });

  it('exits 2 for a port that is not one', async () => {
    const run = await algolib(['console', '--local', '--port', '70000']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Expected `--port` to be a port number from 0 to 65535, got 70000');
  });
});

describe('algolib dev', () => {
  it('writes the state file, serves --local commands, and on SIGINT removes it and exits 0', async () => {
    const devState = join(dir, 'dev-command.json');
    const child = spawn(process.execPath, [CLI, 'dev', '--state-file', devState], {
      env: baseEnv(),
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => child.once('close', done));
    // Bounded: 200 × 50 ms at most, and the child is killed at 60 s anyway.
    for (let i = 0; i < 200 && !stderr.includes('Press Ctrl-C'); i += 1)
      await new Promise((wait) => setTimeout(wait, 50));

    const status = await algolib(['status', 'library/none/none-1.0.0.tar.gz', '--state-file', devState]);
    const consoleUrl = (JSON.parse(readFileSync(devState, 'utf8')) as { console?: { url: string } }).console?.url;
    const consoleConfig = consoleUrl ? await fetch(new URL('/api/config', consoleUrl)) : undefined;
    const separate = await runConsole(['--state-file', devState]);
    child.kill('SIGINT');
    const code = await exited;

    // Long commands are broken with a shell continuation to fit 80 columns; joined, they are the command.
    expect(stderr.replaceAll(' \\\n     ', '')).toContain(
      `algolib.js publish examples/face-detector-1.0.0.tar.gz --local --state-file ${devState} --wait`,
    );
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('No status at oss://algolib-local/status/library/none/none-1.0.0.json');
    expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(stderr).toContain(`console     ${consoleUrl}`);
    expect(await consoleConfig?.json()).toMatchObject({ local: true, replay: true, bucket: 'algolib-local' });
    expect(separate).toMatchObject({ code: 0, librariesStatus: 200 });
    expect(separate.stderr).toContain(
      `\`algolib dev\` serves the console with the local cloud's own panels at ${consoleUrl}`,
    );
    expect(code).toBe(0);
    expect(stderr).toContain('state file removed');
    expect(() => readFileSync(devState)).toThrow(/ENOENT/);
  });
});

describe('algolib demo', () => {
  it('registers the example on its own local cloud and shows the verified webhook', async () => {
    // As `npm start` runs it: npm sets npm_lifecycle_event, and in a clone `algolib` is reached through npx.
    const run = await algolib(['demo'], { npm_lifecycle_event: 'start', npm_command: 'start' });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "The demo's local cloud ran inside this command and is gone now, with its bucket and this status.",
    );
    expect(run.stdout).toContain('\n  npx algolib dev\n');
    expect(run.stdout).toContain('  npx algolib status examples/face-detector-1.0.0.tar.gz --local\n');
    expect(run.stdout).not.toContain('while `algolib dev` runs');
    expect(run.stdout).toMatch(/Registered face-detector@1\.0\.0 as AlgoLibId \d+\./);
    expect(run.stdout).toContain(
      'Status object: oss://algolib-local/status/library/face-detector/face-detector-1.0.0.json',
    );
    expect(run.stdout).toMatch(/verified algolib\.registered \(webhook-id msg_[0-9a-f]+, verified: true\)/);
  });
});

describe('algolib --help', () => {
  it.each([
    'init',
    'validate',
    'publish',
    'status',
    'list',
    'replay',
    'console',
    'dev',
    'demo',
    'deploy',
    'completion',
  ])('explains %s with an example', async (command) => {
    const run = await algolib([command, '--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: algolib ${command}`));
    expect(run.stdout).toMatch(/Examples?:\n/);
  });

  it.each(['', 'validate', 'publish', 'status', 'list', 'replay', 'dev', 'demo', 'deploy'])(
    'fits %s --help into 80 columns when not on a terminal',
    async (command) => {
      const run = await algolib([...(command ? [command] : []), '--help']);

      const lines = run.stdout.split('\n');
      expect(lines.filter((line) => line.length > 80)).toEqual([]);
    },
  );

  it('lists the commands', async () => {
    const run = await algolib(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('publish');
    expect(run.stdout).toContain('Examples:');
  });
});
