/**
 * The `algolib` CLI as a user runs it: `node bin/algolib.js …` in a child process (stdout and stderr are pipes, not
 * terminals) against a local cloud started here, reached through its state file (`--local --state-file`) or, for
 * the cloud code path, through `--endpoint` and the ALIBABA_CLOUD_* variables. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { crc64 } from '../../shared/crc64.ts';
import type { StatusDocument } from '../../shared/status.ts';

const CLI = resolve('bin/algolib.js');
const EXAMPLE_PACKAGE = resolve('examples/face-detector-1.0.0.tar.gz');
const EXAMPLE_MANIFEST = JSON.parse(
  readFileSync(resolve('examples/face-detector-1.0.0.manifest.json'), 'utf8'),
) as Record<string, unknown>;

let dir: string;
let stateFile: string;
let cloud: LocalCloud;
let client: OSS;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'algolib-cli-test-'));
  stateFile = join(dir, 'dev.json');
  cloud = await startLocalCloud({ stateFile, dataDir: join(dir, 'cloud') });
  const { endpoint, region, bucket, accessKeyId, accessKeySecret } = cloud.state.oss;
  client = new OSS({ endpoint, region, bucket, accessKeyId, accessKeySecret, authorizationV4: true });
});

afterAll(async () => {
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Run = { code: number | null; stdout: string; stderr: string };

/** Only what the CLI needs from the environment: no ALIBABA_CLOUD_* unless a test passes them. */
const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, NO_COLOR: '1' });

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

/** Runs the CLI to completion. */
const algolib = (args: string[], env: Record<string, string> = {}): Promise<Run> => startAlgolib(args, env).exited;

const local = () => ['--local', '--state-file', stateFile];

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
  const bytes = options.bytes ?? randomBytes(300);
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
    const pkg = newPackage({ bytes: randomBytes(9 * 1024 * 1024) });
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

  it('exits 1 when the name belongs to another package (CONFLICT)', async () => {
    const first = newPackage();
    expect((await algolib(['publish', first.packageFile, ...local(), '--wait'])).code).toBe(0);
    const second = newPackage({ manifest: { name: first.name }, version: '2.0.0' });

    const run = await algolib(['publish', second.packageFile, ...local(), '--wait', '--json']);

    expect(run.code).toBe(1);
    expect(statusOf(run)).toMatchObject({ state: 'CONFLICT', errors: [{ code: 'NAME_CONFLICT' }] });
  });

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

  it('starts a local cloud for the command when --local finds no state file, and says so', async () => {
    const pkg = newPackage();

    const run = await algolib([
      'publish',
      pkg.packageFile,
      '--state-file',
      join(dir, 'nothing-here.json'),
      '--wait',
      '--json',
    ]);

    expect(run.code).toBe(0);
    expect(statusOf(run).state).toBe('REGISTERED');
    expect(run.stderr).toContain('No local cloud state file at');
    expect(run.stderr).toContain('starting a local cloud in this process for this command');
  });

  it('is a usage error (exit 2) to give an unknown flag or a bad --timeout', async () => {
    const unknown = await algolib(['publish', EXAMPLE_PACKAGE, '--local', '--bogus']);
    const timeout = await algolib(['publish', EXAMPLE_PACKAGE, '--local', '--wait', '--timeout', 'abc']);

    expectOneLineError(unknown, /Unknown option '--bogus'.*algolib publish --help/);
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
      'package',
    ]);
    expect(run.stdout).toContain('Expected `capacity` to be an integer from 1 to 10000, got 0');
    expect(run.stdout).toContain('--package <file.tar.gz>');
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
    expect(run.stderr).toMatch(/^error: No local cloud is running \(no state file at .*\): start `algolib dev`/);
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

    expect(stderr).toContain(
      `algolib publish examples/face-detector-1.0.0.tar.gz --local --state-file ${devState} --wait`,
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
    const run = await algolib(['demo']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Registered face-detector@1\.0\.0 as AlgoLibId \d+\./);
    expect(run.stdout).toContain(
      'Status object: oss://algolib-local/status/library/face-detector/face-detector-1.0.0.json',
    );
    expect(run.stdout).toMatch(/verified algolib\.registered \(webhook-id msg_[0-9a-f]+, verified: true\)/);
  });
});

describe('algolib --help', () => {
  it.each(['validate', 'publish', 'status', 'replay', 'console', 'dev', 'demo'])(
    'explains %s with an example',
    async (command) => {
      const run = await algolib([command, '--help']);

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: algolib ${command}`));
      expect(run.stdout).toMatch(/Examples?:\n/);
    },
  );

  it('lists the commands', async () => {
    const run = await algolib(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('publish');
    expect(run.stdout).toContain('Examples:');
  });
});
