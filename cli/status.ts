/**
 * `algolib status <package-key>`: reads the status object of a pair and prints it readably (or as JSON).
 * Exit 0 found, 1 not found.
 */
import { statusKeyOf } from '../shared/keys.ts';
import type { StatusDocument } from '../shared/status.ts';
import { COMMON_OPTIONS, expectPositionals, pairKeysOf, parseCommandArgs, TARGET_OPTIONS } from './args.ts';
import { openBucket } from './bucket.ts';
import type { Command } from './command.ts';
import { createOutput } from './output.ts';
import { statusLines } from './status-view.ts';
import { openTarget, planTarget } from './target.ts';

const OPTIONS = { ...COMMON_OPTIONS, ...TARGET_OPTIONS, json: { type: 'boolean' } } as const;

const usage = `Usage: algolib status <package-key> [--json] [--local | --bucket b ...]

Prints the status document of a published pair: state, name@version, AlgoLibId, errors with their paths, and
webhook notifications. <package-key> is the package's object key (the manifest's key works too).

Options:
  --json               Print the status document as JSON on stdout.
  --status-prefix <p>  Where the function writes status objects (default status/).
  --local, --state-file <f>, --bucket, --region, --endpoint: the target, as for \`algolib publish --help\`.
  --debug              Print stack traces of unexpected errors.
  -h, --help           Show this help.

Exit codes: 0 found, 1 not found, 2 usage or config.

Examples:
  algolib status library/face-detector/face-detector-1.0.0.tar.gz --local
  algolib status library/face/face-1.2.0.tar.gz --bucket my-algolibs --json`;

export const status: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('status', argv, OPTIONS);
    const [key] = expectPositionals('status', positionals, ['package-key']) as [string];
    const { packageKey } = pairKeysOf('status', key);
    const out = createOutput({ json: values.json ?? false });
    const target = await openTarget(await planTarget('status', values, env, { needsFc: false }), out);
    try {
      const bucket = await openBucket(target);
      const statusKey = statusKeyOf(packageKey, target.statusPrefix);
      const document = await bucket.readJson<StatusDocument>(statusKey);
      if (!document) {
        out.note(
          `No status at oss://${bucket.name}/${statusKey}: nothing was published as ${packageKey}, or the function has not run for it yet (check the key, --prefix and --status-prefix)`,
        );
        return 1;
      }
      if (values.json) out.json(document);
      else for (const line of statusLines(document, statusKey, out.colors)) out.say(line);
      return 0;
    } finally {
      await target.close();
    }
  },
};
