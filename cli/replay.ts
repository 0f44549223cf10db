/**
 * `algolib replay <package-key>`: re-runs registration of a pair already in the bucket by invoking the deployed
 * function (asynchronously, as OSS triggers do) with the OSS event its manifest upload would have produced.
 * For a pair that FAILED (a CityVisual outage, a fixed configuration) or whose event was lost.
 */
import { randomBytes } from 'node:crypto';
import { createFc2Client } from '../deploy/fc-api.ts';
import { objectCreatedRecord } from '../platform/oss/event-record.ts';
import { statusKeyOf } from '../shared/keys.ts';
import type { StatusDocument } from '../shared/status.ts';
import {
  COMMON_OPTIONS,
  expectPositionals,
  FC_OPTIONS,
  pairKeysOf,
  parseCommandArgs,
  parseSeconds,
  TARGET_OPTIONS,
  WAIT_OPTIONS,
} from './args.ts';
import { type Bucket, type HeadResult, openBucket } from './bucket.ts';
import type { Command } from './command.ts';
import { CliError, explainRemoteError, UsageError } from './errors.ts';
import { catchInterrupt, INTERRUPTED } from './interrupt.ts';
import { hint } from './invocation.ts';
import { createOutput } from './output.ts';
import { exitCodeOf, outcomeLines } from './status-view.ts';
import { type FcSettings, openTarget, planTarget, type Target } from './target.ts';
import { DEFAULT_TIMEOUT_SECONDS, waitForRegistration } from './wait.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  ...FC_OPTIONS,
  ...WAIT_OPTIONS,
  json: { type: 'boolean' },
} as const;

const usage = `Usage: algolib replay <package-key> [--wait] [--timeout s] [--json] [--local | --bucket b --account-id id ...]

Re-runs the registration of a pair already in the bucket: invokes the deployed function asynchronously through
the Function Compute API with the OSS event of its manifest upload. Use it after a FAILED registration once the
cause is fixed, or when an event was lost. REGISTERED and REJECTED pairs keep their answer.

Options:
  --wait                 Wait for the registration's answer, as publish --wait does (exit 0/1/3).
  --timeout <s>          Seconds to wait with --wait (default 300).
  --json                 With --wait: print only the final status document on stdout.
Function Compute (cloud):
  --account-id <id>      Your Alibaba Cloud account id (required for the cloud).
  --fc-region <r>        FC region (default: the OSS region without "oss-", e.g. cn-shanghai).
  --fc-endpoint <url>    FC endpoint (default https://<account-id>.<fc-region>.fc.aliyuncs.com).
  --service <name>       FC service (default algolib).
  --function <name>      FC function (default register).
  --local, --state-file <f>, --bucket, --region, --endpoint, --status-prefix: the target, as for publish.
  --debug                Print stack traces of unexpected errors.
  -h, --help             Show this help.

Exit codes: 0 invoked (REGISTERED with --wait), 1 pair not found or REJECTED/CONFLICT/FAILED, 2 usage or
config, 3 timed out.

Examples:
  algolib replay library/face-detector/face-detector-1.0.0.tar.gz --local --wait
  algolib replay library/face/face-1.2.0.tar.gz --bucket my-algolibs --account-id 1234567890123456 --wait`;

export type ReplayEventInput = {
  bucket: string;
  manifestKey: string;
  manifest: HeadResult;
  fc: Pick<FcSettings, 'accountId' | 'region'>;
  now: Date;
  requestId: string;
};

/**
 * The FC OSS trigger payload that uploading the manifest produced, as OSS would deliver it.
 *
 * @example
 * ```ts
 * replayEventOf({ bucket: 'b', manifestKey: 'library/f/f-1.0.0.manifest.json', manifest: { size: 900, etag: 'AB…', crc64: undefined }, fc, now: new Date(), requestId });
 * ```
 */
export const replayEventOf = (input: ReplayEventInput) => ({
  events: [
    objectCreatedRecord({
      bucket: input.bucket,
      key: input.manifestKey,
      size: input.manifest.size,
      etag: input.manifest.etag,
      requestId: input.requestId,
      region: input.fc.region,
      accountId: input.fc.accountId,
      deltaSize: 0,
      eventTime: input.now,
      ruleId: 'algolib-replay',
    }),
  ],
});

type FcError = { code?: unknown };

/** Invokes the function asynchronously; returns FC's request id. */
const invokeAsync = async (target: Target, fc: FcSettings, payload: string): Promise<string> => {
  const client = await createFc2Client(fc, 30_000);
  try {
    const { headers } = await client.invokeFunction(fc.serviceName, fc.functionName, payload, {
      'x-fc-invocation-type': 'Async',
    });
    const requestId = headers['x-fc-request-id'];
    return String((Array.isArray(requestId) ? requestId[0] : requestId) ?? 'unknown');
  } catch (error) {
    const code = (error as FcError)?.code;
    if (code === 'ServiceNotFound' || code === 'FunctionNotFound') {
      throw new CliError(
        `Function Compute has no function ${fc.serviceName}/${fc.functionName} (${code}): check --service, --function and --fc-region`,
        {
          cause: error,
        },
      );
    }
    throw explainRemoteError(error, target.context('Function Compute')) ?? error;
  }
};

export type StartedReplay = {
  requestId: string;
  bucket: Bucket;
  statusKey: string;
  /** The status before the invocation, to tell the re-run's answer from the old one. */
  before: StatusDocument | undefined;
};

/**
 * Invokes the target's function asynchronously with the OSS event of `manifestKey`'s upload (the pair must exist);
 * what `algolib replay` and the console's replay button both do. Throws a `CliError` (exit 1) for a missing half.
 */
export const startReplay = async (
  target: Target,
  keys: { packageKey: string; manifestKey: string },
): Promise<StartedReplay> => {
  const { packageKey, manifestKey } = keys;
  const fc = target.fc as FcSettings;
  const bucket = await openBucket(target);
  const statusKey = statusKeyOf(packageKey, target.statusPrefix);
  const [manifest, pkg] = await Promise.all([bucket.head(manifestKey), bucket.head(packageKey)]);
  const missing = [manifest ? undefined : manifestKey, pkg ? undefined : packageKey].filter(Boolean);
  if (!manifest || missing.length > 0) {
    throw new CliError(
      `Cannot replay ${packageKey}: ${missing.map((k) => `oss://${bucket.name}/${k}`).join(' and ')} not found (publish the pair first)`,
      {
        exitCode: 1,
      },
    );
  }
  const before = await bucket.readJson<StatusDocument>(statusKey);
  const event = replayEventOf({
    bucket: bucket.name,
    manifestKey,
    manifest,
    fc,
    now: new Date(),
    requestId: randomBytes(12).toString('hex').toUpperCase(),
  });
  const requestId = await invokeAsync(target, fc, JSON.stringify(event));
  return { requestId, bucket, statusKey, before };
};

// REGISTERED and REJECTED are final: a re-run finds the answer and keeps it (only undelivered webhooks are retried).
const FINAL_STATES = new Set(['REGISTERED', 'REJECTED']);

export const replay: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('replay', argv, OPTIONS);
    const [key] = expectPositionals('replay', positionals, ['package-key']) as [string];
    const { packageKey, manifestKey } = pairKeysOf('replay', key);
    const wait = values.wait ?? false;
    if (values.timeout !== undefined && !wait) throw new UsageError('Expected `--timeout` only with --wait', 'replay');
    const timeoutMs = parseSeconds('replay', 'timeout', values.timeout, DEFAULT_TIMEOUT_SECONDS);
    const out = createOutput({ json: values.json ?? false });
    const target = await openTarget(await planTarget('replay', values, env, { needsFc: true }), out);
    try {
      const fc = target.fc as FcSettings;
      const { requestId, bucket, statusKey, before } = await startReplay(target, { packageKey, manifestKey });
      out.say(
        `invoked ${fc.serviceName}/${fc.functionName} asynchronously for oss://${bucket.name}/${manifestKey} (FC request id ${requestId})`,
      );
      if (!wait) {
        out.say(`status: oss://${bucket.name}/${statusKey}`);
        if (values.json)
          out.json({
            requestId,
            service: fc.serviceName,
            function: fc.functionName,
            packageKey,
            manifestKey,
            statusKey,
          });
        return 0;
      }
      const settled = before !== undefined && FINAL_STATES.has(before.state);
      if (settled) out.note(`${packageKey} was already ${before.state}; the re-run keeps that answer.`);
      const statusCommand = hint(`status ${packageKey} ${target.flags.join(' ')}`);
      const interrupt = catchInterrupt();
      const result = await waitForRegistration({
        bucket,
        statusKey,
        label: packageKey,
        // Otherwise the answer is a status written after the one we saw before invoking.
        isOurs: (status) => settled || status.updatedAt !== before?.updatedAt,
        timeoutMs,
        out,
        signal: interrupt.signal,
      }).finally(() => interrupt.release());
      if (result.outcome === 'stopped') {
        out.note(`stopped waiting; the re-run goes on: \`${statusCommand}\``);
        return INTERRUPTED;
      }
      if (result.outcome === 'timed-out') {
        out.note(
          `Timed out after ${timeoutMs / 1000}s waiting for the re-run of ${packageKey}; it may still finish: \`${statusCommand}\``,
        );
        if (values.json && result.last) out.json(result.last);
        return 3;
      }
      for (const line of outcomeLines(result.status, out.colors)) out.say(line);
      if (values.json) out.json(result.status);
      return exitCodeOf(result.status);
    } finally {
      await target.close();
    }
  },
};
