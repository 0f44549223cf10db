/**
 * `algolib publish <file.tar.gz>`: validate first (filling `package` from the file), upload the package, then the
 * manifest LAST, and with `--wait` follow the status object to the registration's answer.
 * `publishPackage` is also what `algolib demo` runs, so the demo exercises exactly this path.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { MANIFEST_SUFFIX, PACKAGE_SUFFIX, type PairKeys, pairOf, statusKeyOf } from '../shared/keys.ts';
import type { StatusDocument } from '../shared/status.ts';
import {
  COMMON_OPTIONS,
  DEFAULT_PREFIX,
  expectPositionals,
  parseCommandArgs,
  parsePrefix,
  parseSeconds,
  parseSize,
  TARGET_OPTIONS,
  WAIT_OPTIONS,
} from './args.ts';
import { openBucket, UploadCancelled } from './bucket.ts';
import type { Command } from './command.ts';
import { CliError, explainFileError, UsageError } from './errors.ts';
import { catchInterrupt, INTERRUPTED } from './interrupt.ts';
import { hint } from './invocation.ts';
import { checkManifest, readManifestFile } from './manifest-input.ts';
import { createOutput, formatBytes, type Output } from './output.ts';
import { fileNameMismatch, gzipProblem } from './package-checks.ts';
import { digestPackageFile } from './package-digest.ts';
import { checkRelease } from './release-check.ts';
import { exitCodeOf, invalidManifestLines, outcomeLines } from './status-view.ts';
import { openTarget, planTarget, type TargetPlan } from './target.ts';
import { DEFAULT_TIMEOUT_SECONDS, waitForRegistration } from './wait.ts';

export { DEFAULT_PREFIX } from './args.ts';
export const DEFAULT_MULTIPART_THRESHOLD = 8 * 1024 * 1024;
// OSS refuses parts under 100 KiB (except the last one).
const MIN_PART_SIZE = 100 * 1024;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  ...WAIT_OPTIONS,
  manifest: { type: 'string' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
  'part-size': { type: 'string' },
  'multipart-threshold': { type: 'string' },
  'no-check': { type: 'boolean' },
} as const;

const usage = `Usage: algolib publish <file.tar.gz> [--manifest <file>] [--bucket b] [--prefix p] [--wait] [--timeout s] [--json] [--local]

Validates the manifest, uploads the package and then the manifest (last, so the pair is complete when the
function sees it), and with --wait follows the status object until the library is registered or refused.
package.size, .crc64 and .sha256 are computed from the file in one pass: filled in when absent, checked when present.

Options:
  --manifest <file>          The manifest (default: <stem>.manifest.json beside the package).
  --prefix <p>               Key prefix the function watches (default library/); keys are <p><name>/<file>.
  --wait                     Wait for the registration's answer (exit 0 REGISTERED, 1 REJECTED/CONFLICT/FAILED).
  --timeout <s>              Seconds to wait with --wait (default 300; exit 3 when it passes).
  --json                     Print only the final status document on stdout (human messages go to stderr).
  --no-check                 Upload even when the library record says the function will refuse the release.
  --part-size <size>         Part size of multipart uploads (default 8MiB, at least 100KiB).
  --multipart-threshold <size>  Upload in parts above this size (default 8MiB).
Target (cloud):
  --bucket <b>               The bucket the pipeline watches (required).
  --region <r>               OSS region (default oss-cn-shanghai).
  --endpoint <url>           OSS endpoint (default https://<region>.aliyuncs.com).
  --status-prefix <p>        Where the function writes status objects (default status/).
  Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN (STS).
Target (local):
  --local                    The running local cloud of \`algolib dev\`, found through its state file from any
                             folder (.algolib/dev.json here or in a parent folder, else the one the per-user
                             pointer ~/.local/state/algolib/dev.json names). Without one running: exit 2.
  --state-file <f>           The state file of the local cloud to use; implies --local.
  --debug                    Print stack traces of unexpected errors.
  -h, --help                 Show this help.

Exit codes: 0 uploaded (or REGISTERED with --wait), 1 invalid or REJECTED/CONFLICT/FAILED, 2 usage or config,
3 timed out.

Examples:
  algolib publish examples/face-detector-1.0.0.tar.gz --local --wait
  algolib publish dist/face-1.2.0.tar.gz --bucket my-algolibs --wait --json > status.json`;

export type PublishRequest = {
  packageFile: string;
  manifestFile: string;
  prefix: string;
  wait: boolean;
  timeoutMs: number;
  json: boolean;
  multipartThreshold: number;
  partSize: number;
  /** Ask the library record first (the function's release decision) before uploading. */
  check: boolean;
};

export type PublishKeys = { bucket: string; packageKey: string; manifestKey: string; statusKey: string };

export type PublishResult = { exitCode: number; keys: PublishKeys | undefined; status: StatusDocument | undefined };

/** The request a command line describes; every flag is checked here, before any file is read. */
export const publishRequestOf = (argv: string[]) => {
  const { values, positionals } = parseCommandArgs('publish', argv, OPTIONS);
  const [packageFile] = expectPositionals('publish', positionals, ['file.tar.gz']) as [string];
  // `x.tar.gz`, not a bare `.tar.gz`: the file name is the object's name, and pairOf needs a stem.
  if (!packageFile.endsWith(PACKAGE_SUFFIX) || basename(packageFile) === PACKAGE_SUFFIX) {
    throw new UsageError(`Expected the package to be a ${PACKAGE_SUFFIX} file, got ${packageFile}`, 'publish');
  }
  const request: PublishRequest = {
    packageFile,
    manifestFile: values.manifest ?? `${packageFile.slice(0, -PACKAGE_SUFFIX.length)}${MANIFEST_SUFFIX}`,
    prefix: parsePrefix('publish', 'prefix', values.prefix, DEFAULT_PREFIX),
    wait: values.wait ?? false,
    timeoutMs: parseSeconds('publish', 'timeout', values.timeout, DEFAULT_TIMEOUT_SECONDS),
    json: values.json ?? false,
    multipartThreshold: parseSize(
      'publish',
      'multipart-threshold',
      values['multipart-threshold'],
      DEFAULT_MULTIPART_THRESHOLD,
    ),
    partSize: parseSize('publish', 'part-size', values['part-size'], DEFAULT_MULTIPART_THRESHOLD, MIN_PART_SIZE),
    check: !(values['no-check'] ?? false),
  };
  if (values.timeout !== undefined && !request.wait) {
    throw new UsageError('Expected `--timeout` only with --wait', 'publish');
  }
  return { request, values };
};

/** The package file's size; a missing or odd file is a one-line `CliError`. */
const packageFileSize = async (file: string): Promise<number> => {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    throw explainFileError(error, file, 'package file');
  }
  if (!info.isFile()) throw new CliError(`Cannot read the package file ${file}: it is not a regular file`);
  return info.size;
};

// Hashing this much takes long enough (a few hundred ms and up) that a silent pause looks like a hang.
const SHOW_HASHING_FROM = 16 * 1024 * 1024;

const NOTHING: Omit<PublishResult, 'exitCode'> = { keys: undefined, status: undefined };

/**
 * Validates, uploads (package, then manifest) and, when asked, waits for the answer; prints as it goes.
 *
 * @example
 * ```ts
 * const { request } = publishRequestOf(['dist/face-1.2.0.tar.gz', '--wait']);
 * const { exitCode } = await publishPackage(request, await planTarget('publish', {}, process.env, { needsFc: false }), createOutput());
 * ```
 */
export const publishPackage = async (
  request: PublishRequest,
  plan: TargetPlan,
  out: Output,
): Promise<PublishResult> => {
  const size = await packageFileSize(request.packageFile);
  const notGzip = await gzipProblem(request.packageFile);
  if (notGzip) {
    out.say(`${out.colors.red('invalid')} ${request.packageFile}: ${notGzip}; nothing was uploaded`);
    return { exitCode: 1, ...NOTHING };
  }
  // Only the default manifest is one `algolib init` would write: a missing --manifest file is just a wrong path.
  const besidePackage =
    request.manifestFile === `${request.packageFile.slice(0, -PACKAGE_SUFFIX.length)}${MANIFEST_SUFFIX}`;
  const manifestBytes = await readManifestFile(request.manifestFile, besidePackage ? request.packageFile : undefined);
  const hashing =
    size >= SHOW_HASHING_FROM ? out.progress(`hashing ${basename(request.packageFile)}`, size) : undefined;
  const digest = await digestPackageFile(request.packageFile, (done) => hashing?.update(done)).finally(() =>
    hashing?.stop(),
  );
  const check = checkManifest(manifestBytes, request.manifestFile, digest);
  if (!check.ok) {
    const lines = invalidManifestLines(request.manifestFile, check.errors, out.colors, '; nothing was uploaded');
    for (const line of lines) out.say(line);
    return { exitCode: 1, ...NOTHING };
  }
  const { manifest } = check;
  const mismatch = fileNameMismatch(request.packageFile, manifest.name, manifest.version);
  if (mismatch) out.note(`${out.colors.yellow('warning:')} ${mismatch}`);
  if (check.filled.length > 0) {
    out.note(
      `${manifest.name}@${manifest.version}: filled ${check.filled.map((field) => `package.${field}`).join(', ')} from ${request.packageFile}`,
    );
  }

  const target = await openTarget(plan, out);
  try {
    const bucket = await openBucket(target);
    const fileName = basename(request.packageFile);
    const { packageKey, manifestKey } = pairOf(
      `${request.prefix}${manifest.name}/${fileName}`,
      request.prefix,
    ) as PairKeys;
    const keys: PublishKeys = {
      bucket: bucket.name,
      packageKey,
      manifestKey,
      statusKey: statusKeyOf(packageKey, target.statusPrefix),
    };

    const statusCommand = hint(`status ${keys.packageKey} ${target.flags.join(' ')}`);
    if (request.check) {
      const release = await checkRelease(bucket, target.statusPrefix, manifest, keys.packageKey);
      const subject = `${manifest.name}@${manifest.version}`;
      if (release.verdict === 'unchanged') {
        out.say(
          `${out.colors.green('already registered, unchanged')} ${subject} (AlgoLibId ${release.algoLibId}); nothing was uploaded`,
        );
        if (request.json && release.status) out.json(release.status);
        return { exitCode: 0, keys, status: release.status };
      }
      if (release.verdict === 'refused') {
        out.say(`${out.colors.red('refused')} ${subject}: ${release.code}: ${release.message}; nothing was uploaded`);
        if (request.json) {
          out.json({
            schemaVersion: 1,
            state: 'CONFLICT',
            name: manifest.name,
            version: manifest.version,
            package: { bucket: keys.bucket, key: keys.packageKey },
            manifest: { key: keys.manifestKey },
            errors: [{ code: release.code, message: release.message }],
            updatedAt: new Date().toISOString(),
          } satisfies StatusDocument);
        }
        return { exitCode: 1, keys, status: undefined };
      }
    }
    // Ctrl-C from here on is answered: an upload is aborted (no parts left billed), a wait ends with a word.
    const interrupt = catchInterrupt();
    try {
      const progress = out.progress(`uploading ${fileName}`, digest.size);
      let aborted: string | undefined;
      try {
        await bucket.uploadFile(keys.packageKey, request.packageFile, {
          size: digest.size,
          multipartThreshold: request.multipartThreshold,
          partSize: request.partSize,
          onProgress: (done) => progress.update(done),
          signal: interrupt.signal,
        });
      } catch (error) {
        if (!(error instanceof UploadCancelled)) throw error;
        aborted = error.aborted;
      } finally {
        progress.stop();
      }
      if (interrupt.signal.aborted) {
        // The manifest completes the pair; without it nothing is registered, whatever became of the package.
        out.note(
          `cancelled; nothing registered (${aborted ? `multipart upload ${aborted} aborted, ` : ''}the manifest was not uploaded)`,
        );
        return { exitCode: INTERRUPTED, ...NOTHING };
      }
      out.say(`uploaded oss://${keys.bucket}/${keys.packageKey} (${formatBytes(digest.size)}, crc64 ${digest.crc64})`);
      // Last: the manifest completes the pair, so the function never sees a manifest whose package is still uploading.
      const manifestEtag = await bucket.put(keys.manifestKey, check.bytes, 'application/json');
      out.say(`uploaded oss://${keys.bucket}/${keys.manifestKey}`);

      if (!request.wait) {
        out.say(`status: oss://${keys.bucket}/${keys.statusKey} (read it with \`${statusCommand}\`)`);
        if (request.json)
          out.json({
            bucket: keys.bucket,
            packageKey: keys.packageKey,
            manifestKey: keys.manifestKey,
            statusKey: keys.statusKey,
          });
        return { exitCode: 0, keys, status: undefined };
      }

      const result = await waitForRegistration({
        bucket,
        statusKey: keys.statusKey,
        label: `${manifest.name}@${manifest.version}`,
        // A status left by an earlier upload of this pair names that upload's manifest ETag, not ours.
        isOurs: (status) => status.manifest.etag === manifestEtag,
        timeoutMs: request.timeoutMs,
        out,
        signal: interrupt.signal,
      });
      if (result.outcome === 'stopped') {
        out.note(`stopped waiting; the registration goes on: \`${statusCommand}\``);
        return { exitCode: INTERRUPTED, keys, status: undefined };
      }
      if (result.outcome === 'timed-out') {
        out.note(
          `Timed out after ${request.timeoutMs / 1000}s waiting for the registration of ${keys.packageKey} (last state: ${describeLast(result.last, manifestEtag)}); it may still finish: \`${statusCommand}\``,
        );
        // Only a status of this upload is worth keeping (a stale one from an earlier upload would mislead a CI job).
        const ours = result.last?.manifest.etag === manifestEtag ? result.last : undefined;
        if (request.json && ours) out.json(ours);
        return { exitCode: 3, keys, status: ours };
      }
      for (const line of outcomeLines(result.status, out.colors)) out.say(line);
      out.say(`status: oss://${keys.bucket}/${keys.statusKey}`);
      if (request.json) out.json(result.status);
      return { exitCode: exitCodeOf(result.status), keys, status: result.status };
    } finally {
      interrupt.release();
    }
  } finally {
    await target.close();
  }
};

const describeLast = (last: StatusDocument | undefined, manifestEtag: string): string => {
  if (!last) return 'no status object yet: is the function deployed, and does --prefix match its trigger?';
  if (last.manifest.etag !== undefined && last.manifest.etag !== manifestEtag)
    return `${last.state}, from an earlier upload`;
  return last.waitingFor ? `${last.state}, waiting for the ${last.waitingFor}` : last.state;
};

export const publish: Command = {
  usage,
  run: async (argv, env) => {
    const { request, values } = publishRequestOf(argv);
    const out = createOutput({ json: request.json });
    const plan = await planTarget('publish', values, env, { needsFc: false });
    return (await publishPackage(request, plan, out)).exitCode;
  },
};
