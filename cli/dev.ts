/**
 * `algolib dev`: runs the local cloud (OSS, CityVisual, FC with the register function, webhook receiver) until
 * SIGINT/SIGTERM, writes the state file other commands find it by, logs one compact line per request or invocation,
 * and on a signal shuts everything down and removes the state file.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LocalCloudState } from '../local/cloud.ts';
import { COMMON_OPTIONS, expectPositionals, parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';
import { nextSignal, startLocalConsole } from './console.ts';
import { devLogPrinter } from './dev-log.ts';
import { CliError, rememberSecret, UsageError } from './errors.ts';
import { fitLine, widthOf } from './fit.ts';
import { hint } from './invocation.ts';
import { answers, PROJECT_STATE_FILE, removeUserPointer, writeUserPointer } from './local-state.ts';
import { createOutput, type Output } from './output.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  'data-dir': { type: 'string' },
  'state-file': { type: 'string' },
  'webhook-url': { type: 'string' },
  'webhook-secret': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  filter: { type: 'string' },
  chat: { type: 'string' },
} as const;

const CHAT_KINDS = ['dingtalk', 'wecom', 'lark'] as const;

const usage = `Usage: algolib dev [--data-dir d] [--state-file f] [--webhook-url u --webhook-secret s] [--chat kind] [--quiet] [--filter t]

Runs the local cloud on 127.0.0.1 until Ctrl-C: an OSS emulator with the bucket, the CityVisual emulator, the
FC emulator running the register function from template.yml (build it first: npm run build), a webhook
receiver and the console (a web page of the registry; its URL is printed and written to the state file as
console.url). Writes a state file that \`--local\` commands read, and removes it on exit: .algolib/dev.json here,
plus a pointer to it in ~/.local/state/algolib/dev.json ($XDG_STATE_HOME/algolib/dev.json), so \`--local\` finds
this cloud from any folder.

Logs one line per request, function step and invocation: problems in red, outcomes in green, and outcomes the
pipeline expects (a claim already taken, a status not written yet) dimmed and marked "(expected: …)".

Options:
  --quiet, -q           Log only outcomes (registrations, webhooks, invocations) and problems.
  --filter <t>          Log only lines containing t (a library name, a key, oss, fc, …).
  --data-dir <d>        Keep objects and libraries in this folder across runs (default: a temporary folder).
  --state-file <f>      Where to write the state file (default .algolib/dev.json; another file is not found
                        by \`--local\` from other folders: pass it as \`--state-file\` there too).
  --webhook-url <u>     Send webhooks to this receiver instead of the built-in one (needs --webhook-secret).
  --webhook-secret <s>  The receiver's whsec_… signing secret.
  --chat <kind>         Also run a local chat robot (dingtalk, wecom or lark) that checks signatures and rate
                        limits as the real one does; its messages appear in this log (docs/notifications.md).
  --debug               Print stack traces of unexpected errors.
  -h, --help            Show this help.

Example:
  algolib dev
  algolib publish examples/face-detector-1.0.0.tar.gz --local --wait   (in another terminal)`;

const printBanner = (
  out: Output,
  state: LocalCloudState,
  stateFile: string,
  dataDir: string | undefined,
  builtInReceiver: boolean,
  pointer: string | undefined,
  robot?: { kind: string; url: string },
) => {
  const { bold, dim } = out.colors;
  const localFlags = stateFile === PROJECT_STATE_FILE ? '--local' : `--local --state-file ${stateFile}`;
  const width = widthOf(process.stderr);
  // Rows continue under their value column, never mid-word at the terminal's edge.
  const row = (label: string, value: string) => {
    const [first = '', ...more] = fitLine(`  ${label.padEnd(12)}${value}`, width);
    out.note(`  ${dim(label.padEnd(12))}${first.slice(14)}`);
    for (const line of more) out.note(line);
  };
  const say = (line: string) => {
    for (const fitted of fitLine(line, width)) out.note(fitted);
  };
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
  if (robot) row('chat', `${robot.kind} robot at ${new URL(robot.url).origin} (its messages appear below)`);
  if (state.console) row('console', `${state.console.url}  (the registry in a browser)`);
  row('data', dataDir ?? 'a temporary folder, removed on exit');
  row('state file', `${stateFile} (endpoints and credentials for --local; removed on exit)`);
  if (pointer) row('found from', `any folder, through ${pointer}`);
  out.note('');
  out.note('Publish to it from another terminal:');
  say(`  ${hint(`publish examples/face-detector-1.0.0.tar.gz ${localFlags} --wait`)}`);
  say(`  ${hint(`status examples/face-detector-1.0.0.tar.gz ${localFlags}`)}`);
  say(`  ${hint(`list ${localFlags}`)}`);
  out.note('Press Ctrl-C to stop.');
  out.note('');
};

export const dev: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('dev', argv, OPTIONS);
    expectPositionals('dev', positionals, []);
    const url = values['webhook-url'];
    const secret = values['webhook-secret'];
    if ((url === undefined) !== (secret === undefined)) {
      throw new UsageError('Expected `--webhook-url` and `--webhook-secret` together', 'dev');
    }
    rememberSecret(secret);
    const chat = values.chat;
    if (chat !== undefined && !(CHAT_KINDS as readonly string[]).includes(chat)) {
      throw new UsageError(`Expected \`--chat\` to be one of ${CHAT_KINDS.join(', ')}, got ${chat}`, 'dev');
    }
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
      ...(chat === undefined ? {} : { chat: chat as (typeof CHAT_KINDS)[number] }),
      log: devLogPrinter(out, { quiet: values.quiet ?? false, filter: values.filter }),
    });
    // Only the default state file is pointed at: one named with --state-file is named again where it is used.
    const pointer = values['state-file'] === undefined ? writeUserPointer(env, resolve(stateFile)) : undefined;
    for (const value of [
      cloud.state.oss.accessKeySecret,
      cloud.state.fc.accessKeySecret,
      cloud.state.cityvisual.accessKeySecret,
      cloud.state.webhook.secret,
      cloud.robot?.secret,
    ]) {
      rememberSecret(value);
    }
    const consoleServer = await startLocalConsole(cloud, {
      log: devLogPrinter(out, { quiet: values.quiet ?? false, filter: values.filter }),
    });
    // Other commands (and people) find the console where they find the endpoints.
    cloud.state.console = { url: consoleServer.url };
    writeFileSync(stateFile, `${JSON.stringify(cloud.state, null, 2)}\n`, { mode: 0o600 });
    printBanner(out, cloud.state, stateFile, values['data-dir'], cloud.receiver !== undefined, pointer, cloud.robot);
    const received = await signal;
    out.note(`${received}: shutting down the local cloud…`);
    if (pointer) removeUserPointer(env, resolve(stateFile));
    await consoleServer.close();
    await cloud.close();
    out.note('stopped; state file removed.');
    return 0;
  },
};
