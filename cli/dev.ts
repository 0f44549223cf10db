/**
 * `algolib dev`: runs the local cloud (OSS, CityVisual, FC with the register function, webhook receiver) until
 * SIGINT/SIGTERM, writes the state file other commands find it by, logs one compact line per request or invocation,
 * and on a signal shuts everything down and removes the state file.
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { LocalCloudState } from '../local/cloud.ts';
import { COMMON_OPTIONS, expectPositionals, parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';
import { nextSignal, startLocalConsole } from './console.ts';
import { CliError, rememberSecret, UsageError } from './errors.ts';
import { createOutput, type Output } from './output.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  'data-dir': { type: 'string' },
  'state-file': { type: 'string' },
  'webhook-url': { type: 'string' },
  'webhook-secret': { type: 'string' },
} as const;

const usage = `Usage: algolib dev [--data-dir d] [--state-file f] [--webhook-url u --webhook-secret s]

Runs the local cloud on 127.0.0.1 until Ctrl-C: an OSS emulator with the bucket, the CityVisual emulator, the
FC emulator running the register function from template.yml (build it first: npm run build), a webhook
receiver and the console (a web page of the registry; its URL is printed and written to the state file as
console.url). Writes a state file that \`--local\` commands read, and removes it on exit.

Options:
  --data-dir <d>        Keep objects and libraries in this folder across runs (default: a temporary folder).
  --state-file <f>      Where to write the state file (default .algolib/dev.json).
  --webhook-url <u>     Send webhooks to this receiver instead of the built-in one (needs --webhook-secret).
  --webhook-secret <s>  The receiver's whsec_… signing secret.
  --debug               Print stack traces of unexpected errors.
  -h, --help            Show this help.

Example:
  algolib dev
  algolib publish examples/face-detector-1.0.0.tar.gz --local --wait   (in another terminal)`;

/** Fields every log line leads with, in this order; the rest follow as key=value. */
const LEADING_FIELDS = [
  'op',
  'action',
  'event',
  'kind',
  'function',
  'bucket',
  'key',
  'id',
  'type',
  'status',
  'code',
  'outcome',
  'fault',
];
const QUIET_FIELDS = new Set(['service', 'requestId', 'line', 'stream', 'instanceId', 'ms']);

const compact = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** The function's own JSON log line (`{time, level, requestId, step, …}`) as fields, or `undefined` for plain text. */
const functionLogOf = (line: string): Record<string, unknown> | undefined => {
  try {
    const parsed = JSON.parse(line) as unknown;
    if (typeof parsed !== 'object' || parsed === null || !('step' in parsed)) return undefined;
    const { time: _time, requestId: _requestId, level, step, ...rest } = parsed as Record<string, unknown>;
    return { event: step, ...(level === 'info' ? {} : { level }), ...rest };
  } catch {
    return undefined;
  }
};

/** One emulator log entry as a short line: `12:00:01 oss        PutObject algolib-local library/a.tar.gz 200 3ms`. */
export const formatLogEntry = (entry: Record<string, unknown>): string => {
  const time = new Date().toISOString().slice(11, 19);
  const service = String(entry.service ?? 'local').padEnd(10);
  if (typeof entry.line === 'string') {
    // Output of the function inside an FC instance: its JSON log lines get the same compact form, anything else as is.
    const fields = functionLogOf(entry.line);
    if (!fields) return `${time} ${service} ${entry.stream === 'stderr' ? '! ' : ''}${entry.line}`;
    return formatFields(time, service, fields);
  }
  return formatFields(time, service, entry);
};

const formatFields = (time: string, service: string, entry: Record<string, unknown>): string => {
  const lead = LEADING_FIELDS.filter((field) => entry[field] !== undefined && entry[field] !== '').map((field) =>
    compact(entry[field]),
  );
  const rest = Object.entries(entry)
    .filter(([field, value]) => value !== undefined && !LEADING_FIELDS.includes(field) && !QUIET_FIELDS.has(field))
    .map(([field, value]) => `${field}=${compact(value)}`);
  const ms = typeof entry.ms === 'number' ? [`${entry.ms}ms`] : [];
  return [time, service, ...lead, ...rest, ...ms].join(' ');
};

/** True when something accepts connections at the endpoint's port (a state file left by a crashed run does not). */
const answers = (endpoint: string): Promise<boolean> =>
  new Promise((resolve) => {
    const url = new URL(endpoint);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

const printBanner = (
  out: Output,
  state: LocalCloudState,
  stateFile: string,
  dataDir: string | undefined,
  builtInReceiver: boolean,
) => {
  const { bold, dim } = out.colors;
  const localFlags = stateFile === '.algolib/dev.json' ? '--local' : `--local --state-file ${stateFile}`;
  const row = (label: string, value: string) => out.note(`  ${dim(label.padEnd(12))}${value}`);
  out.note(bold('algolib dev: the local cloud is running'));
  row('OSS', `${state.oss.endpoint}  bucket ${state.oss.bucket} (region ${state.oss.region})`);
  row('CityVisual', `${state.cityvisual.endpoint}  instance ${state.cityvisual.instanceId}`);
  row(
    'FC',
    `${state.fc.endpoint}  function ${state.fc.serviceName}/${state.fc.functionName} (account ${state.fc.accountId})`,
  );
  row(
    'webhooks',
    `${builtInReceiver ? state.webhook.url : new URL(state.webhook.url).origin} ${builtInReceiver ? '(built-in receiver)' : '(your receiver)'}`,
  );
  if (state.console) row('console', `${state.console.url}  (the registry in a browser)`);
  row('data', dataDir ?? 'a temporary folder, removed on exit');
  row('state file', `${stateFile} (endpoints and credentials for --local; removed on exit)`);
  out.note('');
  out.note('Publish to it from another terminal:');
  out.note(`  algolib publish examples/face-detector-1.0.0.tar.gz ${localFlags} --wait`);
  out.note(`  algolib status library/face-detector/face-detector-1.0.0.tar.gz ${localFlags}`);
  out.note('Press Ctrl-C to stop.');
  out.note('');
};

export const dev: Command = {
  usage,
  run: async (argv) => {
    const { values, positionals } = parseCommandArgs('dev', argv, OPTIONS);
    expectPositionals('dev', positionals, []);
    const url = values['webhook-url'];
    const secret = values['webhook-secret'];
    if ((url === undefined) !== (secret === undefined)) {
      throw new UsageError('Expected `--webhook-url` and `--webhook-secret` together', 'dev');
    }
    rememberSecret(secret);
    const out = createOutput();
    const { DEFAULT_STATE_FILE, readStateFile, startLocalCloud } = await import('../local/cloud.ts');
    const stateFile = values['state-file'] ?? DEFAULT_STATE_FILE;
    const existing = (() => {
      try {
        return readStateFile(stateFile);
      } catch {
        return undefined;
      }
    })();
    if (existing && (await answers(existing.oss.endpoint))) {
      throw new CliError(
        `A local cloud is already running with state file ${stateFile} (OSS at ${existing.oss.endpoint}): stop it, or pass another --state-file`,
      );
    }
    if (existing) out.note(`Replacing the stale state file ${stateFile} (its local cloud is not running).`);

    // Signals that arrive while starting are honoured once the cloud is up, so nothing is left half-started.
    const signal = nextSignal();
    const cloud = await startLocalCloud({
      stateFile,
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
      ...(url !== undefined && secret !== undefined ? { webhook: { url, secret } } : {}),
      log: (entry) => out.note(formatLogEntry(entry)),
    });
    for (const value of [
      cloud.state.oss.accessKeySecret,
      cloud.state.fc.accessKeySecret,
      cloud.state.cityvisual.accessKeySecret,
      cloud.state.webhook.secret,
    ]) {
      rememberSecret(value);
    }
    const consoleServer = await startLocalConsole(cloud, { log: (entry) => out.note(formatLogEntry(entry)) });
    // Other commands (and people) find the console where they find the endpoints.
    cloud.state.console = { url: consoleServer.url };
    writeFileSync(stateFile, `${JSON.stringify(cloud.state, null, 2)}\n`, { mode: 0o600 });
    printBanner(out, cloud.state, stateFile, values['data-dir'], cloud.receiver !== undefined);
    const received = await signal;
    out.note(`${received}: shutting down the local cloud…`);
    await consoleServer.close();
    await cloud.close();
    out.note('stopped; state file removed.');
    return 0;
  },
};
