/**
 * `algolib demo` (what `npm start` runs): the whole pipeline on one machine in a few seconds. Starts a local cloud in
 * this process (fresh temporary data, no state file), publishes the example package through the same code as
 * `publish --wait`, shows the registered library, where its status object is, and the webhook the local receiver
 * verified, then shuts everything down. Exits non-zero when any of that did not happen.
 */
import { join, relative } from 'node:path';
import type { StatusDocument } from '../shared/status.ts';
import { COMMON_OPTIONS, expectPositionals, parseCommandArgs } from './args.ts';
import { openBucket } from './bucket.ts';
import type { Command } from './command.ts';
import { nextSignal, startLocalConsole } from './console.ts';
import { hint } from './invocation.ts';
import { createOutput, type Output } from './output.ts';
import { DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PREFIX, publishPackage } from './publish.ts';
import { statusLines } from './status-view.ts';
import { openTarget, planFor } from './target.ts';

const usage = `Usage: algolib demo

Runs the pipeline end to end on this machine: starts a local cloud in this process (OSS, CityVisual, FC with
the register function, a webhook receiver; nothing else needs to run), publishes
examples/face-detector-1.0.0.tar.gz as \`algolib publish --wait\` would, prints the registered library, its
status object and the verified webhook delivery, and shuts down. It serves the console (the registry as a web
page) while it runs and prints its URL; from a terminal the console stays up until Ctrl-C. Needs \`npm run build\` first (npm start does it).

Options:
  --debug     Print stack traces of unexpected errors.
  -h, --help  Show this help.

Exit codes: 0 when the library was registered and the webhook verified, 1 otherwise.

Example:
  npm start          (builds, then runs algolib demo)`;

const EXAMPLE = 'examples/face-detector-1.0.0';

/**
 * What to do next. The demo's cloud lived in this process and is gone with it (its bucket and status too), so the
 * way on is a cloud that stays: `dev`, and the same publish against it.
 */
const closingLines = (): string[] => [
  "The demo's local cloud ran inside this command and is gone now, with its bucket and this status.",
  'To try it yourself, start a local cloud that keeps running:',
  `  ${hint('dev')}`,
  'and in another terminal (from any folder of this project):',
  `  ${hint(`publish ${EXAMPLE}.tar.gz --local --wait`)}`,
  `  ${hint(`status ${EXAMPLE}.tar.gz --local`)}`,
  `\`${hint('publish --help')}\` shows how to publish to OSS.`,
];
// Generous for a cold machine (the first FC instance loads the bundle); the local registration takes well under a second.
const DEMO_TIMEOUT_MS = 120_000;

type Delivery = { id: string; type: string; verified: boolean };

const printDelivery = (out: Output, deliveries: Delivery[]): boolean => {
  const verified = deliveries.find((delivery) => delivery.verified);
  if (!verified) {
    out.error(
      `The local webhook receiver verified no delivery (${deliveries.length} received): see the FC log above with --debug`,
    );
    return false;
  }
  out.say(
    `Webhook: the local receiver verified ${verified.type} (webhook-id ${verified.id}, verified: ${verified.verified})`,
  );
  return true;
};

export const demo: Command = {
  usage,
  run: async (argv) => {
    const { values, positionals } = parseCommandArgs('demo', argv, COMMON_OPTIONS);
    expectPositionals('demo', positionals, []);
    const out = createOutput();
    const { projectRoot, startLocalCloud } = await import('../local/cloud.ts');
    const root = projectRoot();
    out.note('Starting a local cloud on 127.0.0.1 (OSS, CityVisual, Function Compute, webhook receiver)…');
    const cloud = await startLocalCloud({
      stateFile: false,
      ...(values.debug ? { log: (entry: Record<string, unknown>) => out.note(JSON.stringify(entry)) } : {}),
    });
    const consoleServer = await startLocalConsole(cloud);
    try {
      out.say(`Console: ${consoleServer.url}  (open it to watch the registration)`);
      const plan = planFor(cloud.state);
      out.note(`Publishing ${EXAMPLE}.tar.gz as \`${hint(`publish ${EXAMPLE}.tar.gz --local --wait`)}\` would:`);
      const published = await publishPackage(
        {
          // Relative to where the command runs, so the lines it prints read as the command it mirrors.
          packageFile: relative(process.cwd(), join(root, `${EXAMPLE}.tar.gz`)),
          manifestFile: relative(process.cwd(), join(root, `${EXAMPLE}.manifest.json`)),
          prefix: DEFAULT_PREFIX,
          wait: true,
          timeoutMs: DEMO_TIMEOUT_MS,
          json: false,
          multipartThreshold: DEFAULT_MULTIPART_THRESHOLD,
          partSize: DEFAULT_MULTIPART_THRESHOLD,
          check: true,
        },
        plan,
        out,
      );
      if (published.exitCode !== 0 || !published.keys) return published.exitCode || 1;
      const { keys } = published;
      // Webhooks go out after the terminal status is written; wait for the function to finish, then read it again.
      await cloud.idle();
      const target = await openTarget(plan, out);
      const status = (await (await openBucket(target)).readJson<StatusDocument>(keys.statusKey)) ?? published.status;
      out.say('');
      out.say(`Registered ${status?.name}@${status?.version} as AlgoLibId ${status?.algoLibId}.`);
      out.say(`Status object: oss://${keys.bucket}/${keys.statusKey}:`);
      if (status) for (const line of statusLines(status, keys.statusKey, out.colors)) out.say(`  ${line}`);
      const delivered = printDelivery(out, cloud.receiver?.deliveries() ?? []);
      out.say('');
      for (const line of closingLines()) out.say(line);
      // From a terminal, keep the console up to look around; a script or CI ends here.
      if (delivered && process.stdin.isTTY && process.stdout.isTTY) {
        out.say(`The console stays up at ${consoleServer.url} until Ctrl-C.`);
        await nextSignal();
      }
      return delivered ? 0 : 1;
    } finally {
      await consoleServer.close();
      await cloud.close();
    }
  },
};
