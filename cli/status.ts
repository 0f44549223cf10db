/**
 * `algolib status <package>`: reads the status object of a pair and prints it readably (or as JSON). The package is
 * named as the user has it at hand: its object key, the `oss://bucket/key` the CLI prints, the local file that was
 * published (its key is `<prefix><name>/<file name>`, the name from the manifest beside it), or `name@version`
 * (through the library record). Exit 0 found, 1 not found.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { MANIFEST_SUFFIX, PACKAGE_SUFFIX, statusKeyOf } from '../shared/keys.ts';
import type { StatusDocument } from '../shared/status.ts';
import {
  COMMON_OPTIONS,
  DEFAULT_PREFIX,
  expectPositionals,
  pairKeysOf,
  parseCommandArgs,
  parsePrefix,
  TARGET_OPTIONS,
} from './args.ts';
import { openBucket } from './bucket.ts';
import type { Command } from './command.ts';
import { CliError, UsageError } from './errors.ts';
import { nameAtVersionOf, statusOfVersion } from './libraries.ts';
import { createOutput } from './output.ts';
import { statusLines } from './status-view.ts';
import { openTarget, planTarget } from './target.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  json: { type: 'boolean' },
  prefix: { type: 'string' },
} as const;

const usage = `Usage: algolib status <package> [--json] [--local | --bucket b ...]

Prints the status document of a published pair: state, name@version, AlgoLibId, what changed, errors with
their paths, and webhook notifications. <package> is any of:
  library/face/face-1.2.0.tar.gz        its object key (the manifest's key works too)
  oss://my-algolibs/library/face/face-1.2.0.tar.gz   the URL publish prints (its bucket is the target's)
  dist/face-1.2.0.tar.gz                the local file that was published (the key it was published to)
  face@1.2.0                            a name and version, through the library's record

Options:
  --json               Print the status document as JSON on stdout.
  --prefix <p>         For a local file: the key prefix it was published with (default library/).
  --status-prefix <p>  Where the function writes status objects (default status/).
  --local, --state-file <f>, --bucket, --region, --endpoint: the target, as for \`algolib publish --help\`.
  --debug              Print stack traces of unexpected errors.
  -h, --help           Show this help.

Exit codes: 0 found, 1 not found, 2 usage or config.

Examples:
  algolib status face-detector@1.0.0 --local
  algolib status examples/face-detector-1.0.0.tar.gz --local
  algolib status oss://my-algolibs/library/face/face-1.2.0.tar.gz --json`;

/** What the argument names: a package key (maybe with its bucket), or a name and version. */
type Reference =
  | { kind: 'key'; packageKey: string; bucket: string | undefined; from: string | undefined }
  | { kind: 'version'; name: string; version: string };

const OSS_URL = /^oss:\/\/([^/]+)\/(.+)$/;

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The key a local package (or manifest) file was published to: `<prefix><manifest name>/<package file name>`. */
const keyOfFile = (file: string, prefix: string): string => {
  const stem = file.endsWith(PACKAGE_SUFFIX)
    ? file.slice(0, -PACKAGE_SUFFIX.length)
    : file.slice(0, -MANIFEST_SUFFIX.length);
  const manifestFile = `${stem}${MANIFEST_SUFFIX}`;
  let name: unknown;
  try {
    name = (JSON.parse(readFileSync(manifestFile, 'utf8')) as { name?: unknown }).name;
  } catch {
    name = undefined;
  }
  if (typeof name !== 'string' || name === '') {
    throw new CliError(
      `Cannot tell the key ${file} was published to: it takes the library name from ${manifestFile}, which ${isFile(manifestFile) ? 'has no "name"' : 'does not exist'}; give the key (library/<name>/${basename(stem)}${PACKAGE_SUFFIX}) or name@version instead`,
    );
  }
  return `${prefix}${name}/${basename(stem)}${PACKAGE_SUFFIX}`;
};

/** Reads the argument the way the usage lists its forms. */
const referenceOf = (text: string, prefix: string): Reference => {
  const url = OSS_URL.exec(text);
  if (url) {
    return {
      kind: 'key',
      packageKey: pairKeysOf('status', url[2] as string).packageKey,
      bucket: url[1],
      from: undefined,
    };
  }
  const named = nameAtVersionOf(text);
  if (named) return { kind: 'version', ...named };
  if ((text.endsWith(PACKAGE_SUFFIX) || text.endsWith(MANIFEST_SUFFIX)) && isFile(text)) {
    return { kind: 'key', packageKey: keyOfFile(text, prefix), bucket: undefined, from: text };
  }
  return { kind: 'key', packageKey: pairKeysOf('status', text).packageKey, bucket: undefined, from: undefined };
};

export const status: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('status', argv, OPTIONS);
    const [text] = expectPositionals('status', positionals, ['package']) as [string];
    const reference = referenceOf(text, parsePrefix('status', 'prefix', values.prefix, DEFAULT_PREFIX));
    const urlBucket = reference.kind === 'key' ? reference.bucket : undefined;
    if (urlBucket !== undefined && values.bucket !== undefined && values.bucket !== urlBucket) {
      throw new UsageError(
        `Expected one bucket, got ${urlBucket} in ${text} and ${values.bucket} from --bucket`,
        'status',
      );
    }
    const out = createOutput({ json: values.json ?? false });
    const targetValues = urlBucket === undefined ? values : { ...values, bucket: urlBucket };
    const target = await openTarget(await planTarget('status', targetValues, env, { needsFc: false }), out);
    try {
      const bucket = await openBucket(target);
      let statusKey: string;
      let document: StatusDocument | undefined;
      if (reference.kind === 'version') {
        ({ statusKey, document } = await statusOfVersion(
          bucket,
          target.statusPrefix,
          reference.name,
          reference.version,
        ));
      } else {
        if (reference.from) out.note(`${reference.from} was published as ${reference.packageKey}`);
        statusKey = statusKeyOf(reference.packageKey, target.statusPrefix);
        document = await bucket.readJson<StatusDocument>(statusKey);
        if (!document) {
          out.note(
            `No status at oss://${bucket.name}/${statusKey}: nothing was published as ${reference.packageKey}, or the function has not run for it yet (check the key, --prefix and --status-prefix)`,
          );
          return 1;
        }
      }
      if (values.json) out.json(document);
      else for (const line of statusLines(document, statusKey, out.colors)) out.say(line);
      return 0;
    } finally {
      await target.close();
    }
  },
};
