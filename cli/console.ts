/**
 * `algolib console`: the registry as a web page on 127.0.0.1, read through the same target and credentials as
 * `algolib status`; `startLocalConsole` is the same page for a local cloud in this process (`algolib dev`, the demo,
 * the tests), with the panels only the local cloud has and its replay button.
 */

import type { ConsoleServer } from '../console/server.ts';
import type { LocalCloud, LocalCloudState } from '../local/cloud.ts';
import { COMMON_OPTIONS, expectPositionals, FC_OPTIONS, parseCommandArgs, TARGET_OPTIONS } from './args.ts';
import { ossClientOf } from './bucket.ts';
import type { Command } from './command.ts';
import { CliError, explainRemoteError, UsageError } from './errors.ts';
import { createOutput } from './output.ts';
import { startReplay } from './replay.ts';
import { openTarget, planFor, planTarget, type Target } from './target.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  ...FC_OPTIONS,
  port: { type: 'string' },
  'allow-replay': { type: 'boolean' },
} as const;

const usage = `Usage: algolib console [--port p] [--local | --bucket b ...] [--allow-replay --account-id id ...]

Serves a web page on 127.0.0.1 that shows the registry: one row per library (current version, AlgoLibId, the
state of its latest upload), each library's versions over time and every upload with its errors (shown in the
manifest where their path points) and webhook deliveries. Rows update within seconds, without a reload. It reads
the status documents and library records with the same target and credentials as \`algolib status\`; the
credentials stay in this process. Ctrl-C stops it.

\`algolib dev\` serves the same page with the local cloud's own panels (FC invocations and their log lines, dead
letters with a replay button, the CityVisual table, the webhook receiver) and writes its URL into its state file.

Options:
  --port <p>           Port on 127.0.0.1 (default: any free port).
  --allow-replay       Against the cloud: allow the page's replay button (needs --account-id; see \`algolib replay\`).
                       Without it the console never changes anything in the cloud.
  --status-prefix <p>  Where the function writes status objects (default status/).
  --local, --state-file <f>, --bucket, --region, --endpoint: the target, as for \`algolib publish --help\`.
  --account-id, --fc-region, --fc-endpoint, --service, --function: Function Compute, as for \`algolib replay\`.
  --debug              Print stack traces of unexpected errors.
  -h, --help           Show this help.

Exit codes: 0 stopped with Ctrl-C, 2 usage or config.

Examples:
  algolib console --local
  ALIBABA_CLOUD_ACCESS_KEY_ID=… ALIBABA_CLOUD_ACCESS_KEY_SECRET=… algolib console --bucket my-algolibs --port 8080`;

const parsePort = (raw: string | undefined): number => {
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    throw new UsageError(`Expected \`--port\` to be a port number from 0 to 65535, got ${raw}`, 'console');
  return port;
};

/** Every secret a target holds, so the server can prove no response carries one. */
const targetSecrets = (target: Target, state?: LocalCloudState) => [
  target.oss.accessKeySecret,
  target.oss.securityToken,
  target.fc?.accessKeySecret,
  target.fc?.securityToken,
  ...(state
    ? [state.cityvisual.accessKeySecret, state.webhook.secret, state.webhook.secret.replace(/^whsec_/, '')]
    : []),
];

const openStore = async (target: Target) => {
  const { openConsoleStore } = await import('../console/store.ts');
  // Short timeouts: a page polls, and a slow answer is better retried on the next poll than waited for.
  return openConsoleStore(await ossClientOf(target.oss, 15_000), target.oss.bucket, (error) =>
    explainRemoteError(error, target.context('OSS')),
  );
};

/** Resolves with the first of SIGINT/SIGTERM. */
export const nextSignal = (): Promise<NodeJS.Signals> =>
  new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

export type LocalConsoleOptions = {
  port?: number;
  pollMs?: number;
  minRefreshMs?: number;
  /** Secrets given to the cloud beyond its state (e.g. canary STS keys): none may appear in a response. */
  secrets?: () => string[];
  log?: (entry: Record<string, unknown>) => void;
};

/**
 * The console for a local cloud running in this process: registry pages, the local panels, and replay through the
 * FC API exactly as `algolib replay --local` does.
 *
 * @example
 * ```ts
 * const cloud = await startLocalCloud({ stateFile: false });
 * const console = await startLocalConsole(cloud);
 * console.url; // 'http://127.0.0.1:43121/'
 * ```
 */
export const startLocalConsole = async (
  cloud: LocalCloud,
  options: LocalConsoleOptions = {},
): Promise<ConsoleServer> => {
  const { startConsoleServer } = await import('../console/server.ts');
  const target = await openTarget(planFor(cloud.state), createOutput());
  return startConsoleServer({
    store: await openStore(target),
    statusPrefix: target.statusPrefix,
    targetLabel: `local cloud · oss://${cloud.state.oss.bucket}`,
    local: cloud,
    replay: (keys) => startReplay(target, keys),
    secrets: () => [...targetSecrets(target, cloud.state), ...(options.secrets?.() ?? [])],
    ...options,
  });
};

export const consoleCommand: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('console', argv, OPTIONS);
    expectPositionals('console', positionals, []);
    const port = parsePort(values.port);
    const allowReplay = values['allow-replay'] ?? false;
    const plan = await planTarget('console', values, env, { needsFc: allowReplay });
    if (plan.kind === 'local' && !plan.state)
      throw new CliError(
        `No local cloud is running (no state file at ${plan.stateFile}): start \`algolib dev\`, which serves the console itself and prints its URL`,
      );
    if (plan.kind === 'local' && allowReplay)
      throw new UsageError(
        'Expected `--allow-replay` only for the cloud: the local cloud can always be replayed',
        'console',
      );
    const out = createOutput();
    const target = await openTarget(plan, out);
    const { startConsoleServer } = await import('../console/server.ts');
    const local = plan.kind === 'local';
    const server = await startConsoleServer({
      store: await openStore(target),
      statusPrefix: target.statusPrefix,
      targetLabel: local ? `local cloud · oss://${target.oss.bucket}` : `oss://${target.oss.bucket}`,
      ...(local || allowReplay ? { replay: (keys) => startReplay(target, keys) } : {}),
      secrets: () => targetSecrets(target, plan.kind === 'local' ? plan.state : undefined),
      port,
    }).catch((error: unknown) => {
      throw new CliError(`Cannot start the console on 127.0.0.1:${port}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    const signal = nextSignal();
    out.say(`algolib console: ${server.url}`);
    out.note(
      `Reading ${target.statusPrefix} in oss://${target.oss.bucket}${local || allowReplay ? '' : ' (read-only: --allow-replay enables the replay button)'}. Press Ctrl-C to stop.`,
    );
    const dev = plan.kind === 'local' ? plan.state?.console?.url : undefined;
    if (dev) out.note(`\`algolib dev\` serves the console with the local cloud's own panels at ${dev}`);
    out.note(`${await signal}: stopping the console…`);
    await server.close();
    await target.close();
    return 0;
  },
};
