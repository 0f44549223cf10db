/**
 * `algolib init [<file.tar.gz>]`: writes a starting manifest beside a package, so the first publish is not a blank
 * page. Name and version come from the file name (`face-detector-1.2.0.tar.gz`); what only the author knows is a
 * `"TODO: …"` string that `validate` and `publish` refuse, each at its path, until it is filled in. JSON has no
 * comments: the explanations live in the JSON Schema's descriptions, which editors show on hover through the
 * `$schema` path this command writes, and in the lines it prints. `package` is left out: publish fills it.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { MANIFEST_SUFFIX, PACKAGE_SUFFIX } from '../shared/keys.ts';
import { INSTALLED_SCHEMA_PATH, NAME_PATTERN, VERSION_PATTERN } from '../shared/manifest.ts';
import { COMMON_OPTIONS, parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';
import { CliError, UsageError } from './errors.ts';
import { createOutput } from './output.ts';

const OPTIONS = { ...COMMON_OPTIONS, force: { type: 'boolean' } } as const;

const usage = `Usage: algolib init [<file.tar.gz>] [--force]

Writes <stem>.manifest.json beside the package: schemaVersion, name and version from the file name
(<name>-<version>.tar.gz), and "TODO: …" strings for what only you know (capabilities, capacity, objects).
validate and publish refuse each TODO until it is filled in. \`package\` is left out: publish fills it.
Without <file.tar.gz>, uses the one .tar.gz in the current folder. The file need not exist yet.

Options:
  --force       Replace a manifest that already exists (default: refuse, exit 2).
  --debug       Print stack traces of unexpected errors.
  -h, --help    Show this help.

Exit codes: 0 written, 2 usage (or a manifest already there).

Examples:
  algolib init dist/face-detector-1.2.0.tar.gz
  algolib validate dist/face-detector-1.2.0.manifest.json`;

/** The marker of a value `init` leaves to the author; no schema rule accepts a string that starts with it. */
export const TODO = 'TODO: ';

/** `face-detector-1.2.0-rc.1` → name and version, splitting at the first `-` that leaves a valid pair. */
export const nameAndVersionOf = (stem: string): { name: string; version: string } | undefined => {
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
    const name = stem.slice(0, i);
    const version = stem.slice(i + 1);
    if (NAME_PATTERN.test(name) && VERSION_PATTERN.test(version)) return { name, version };
  }
  return undefined;
};

/** The folder of the running CLI's package: the source tree under vitest, the package root from the bundle. */
const cliRoot = (): string | undefined => {
  const start = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (let dir = start, depth = 0; depth < 4; dir = dirname(dir), depth += 1) {
    if (existsSync(join(dir, 'schema', 'manifest-v1.schema.json'))) return dir;
  }
  return undefined;
};

/** The repository `folder` is in: the nearest folder up with a package.json or a .git. */
const repositoryOf = (folder: string): string | undefined => {
  for (let dir = resolve(folder), depth = 0; depth < 64; dir = dirname(dir), depth += 1) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
  return undefined;
};

/**
 * `$schema` for a manifest in `folder`: the path from there to the schema this CLI ships (relative, so it works in
 * any clone and any CI checkout of the repository that holds both), or the usual place of an installed CLI when the
 * shipped file cannot be found. `portable` is false when the schema is outside the manifest's repository (a global
 * install): the path then works on this machine only.
 */
export const schemaReferenceFrom = (folder: string, root = cliRoot()): { path: string; portable: boolean } => {
  if (root === undefined) return { path: `./${INSTALLED_SCHEMA_PATH}`, portable: true };
  const path = relative(folder, join(root, 'schema', 'manifest-v1.schema.json'))
    .split(sep)
    .join('/');
  const repository = repositoryOf(folder);
  const portable = repository !== undefined && !relative(repository, root).startsWith('..');
  return { path: path.startsWith('.') ? path : `./${path}`, portable };
};

/** The starting manifest for `name@version` (either may be a TODO), in the order of the documented example. */
export const starterManifest = (schema: string, name: string, version: string) => ({
  $schema: schema,
  schemaVersion: 1,
  name,
  version,
  capabilities: [`${TODO}what the library detects, in capitals, e.g. FACE`],
  capacity: `${TODO}how many streams it processes at once (an integer)`,
  objects: [
    {
      objType: `${TODO}an object type it outputs, e.g. face`,
      dbTableName: `${TODO}its database table, e.g. face_offline_result`,
      indexName: `${TODO}its search index, e.g. face_offline_index`,
      indexMode: 'INDEX_PER_DAY',
      topicName: `${TODO}its message-queue topic, e.g. face_offline`,
      fields: [
        {
          name: `${TODO}a field of a result, e.g. cameraId`,
          type: `${TODO}the field's type, e.g. string`,
          mandatory: true,
          isDatabaseField: true,
          isSearchEngineField: true,
          isMessageQueueField: true,
        },
      ],
    },
  ],
});

/** The package file named on the command line, or the only `.tar.gz` in the current folder. */
const packageFileOf = async (positionals: string[]): Promise<string> => {
  if (positionals.length > 1) {
    throw new UsageError(`Expected at most one <file.tar.gz>, got ${positionals.join(' ')}`, 'init');
  }
  const [named] = positionals;
  if (named !== undefined) {
    if (!named.endsWith(PACKAGE_SUFFIX) || basename(named) === PACKAGE_SUFFIX) {
      throw new UsageError(`Expected the package to be a ${PACKAGE_SUFFIX} file, got ${named}`, 'init');
    }
    return named;
  }
  const found = (await readdir('.')).filter((file) => file.endsWith(PACKAGE_SUFFIX) && file !== PACKAGE_SUFFIX);
  if (found.length === 1) return found[0] as string;
  throw new UsageError(
    found.length === 0
      ? `Expected <file.tar.gz>: there is no ${PACKAGE_SUFFIX} file in ${process.cwd()}`
      : `Expected <file.tar.gz>: ${process.cwd()} has ${found.length} (${found.join(', ')}); name one`,
    'init',
  );
};

export const init: Command = {
  usage,
  run: async (argv) => {
    const { values, positionals } = parseCommandArgs('init', argv, OPTIONS);
    const packageFile = await packageFileOf(positionals);
    const out = createOutput();
    const stem = basename(packageFile).slice(0, -PACKAGE_SUFFIX.length);
    const manifestFile = join(dirname(packageFile), `${stem}${MANIFEST_SUFFIX}`);
    if (existsSync(manifestFile) && !values.force) {
      throw new CliError(`${manifestFile} already exists: edit it, or pass --force to replace it`);
    }
    const guessed = nameAndVersionOf(stem);
    const name = guessed?.name ?? `${TODO}the library's name, e.g. face-detector`;
    const version = guessed?.version ?? `${TODO}its version, e.g. 1.0.0`;
    const schema = schemaReferenceFrom(dirname(packageFile));
    const manifest = starterManifest(schema.path, name, version);
    await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    const todos = JSON.stringify(manifest).split(`"${TODO}`).length - 1;
    out.say(
      guessed
        ? `wrote ${manifestFile} for ${name}@${version} (from the file name)`
        : `wrote ${manifestFile}; the file name is not <name>-<version>${PACKAGE_SUFFIX}, so name and version are TODOs too`,
    );
    out.say(`  fill in the ${todos} "${TODO}…" values (your editor explains each field through $schema)`);
    out.say('  package is left out: `algolib publish` fills it from the package file');
    if (!schema.portable) {
      out.say(
        `  note: $schema points outside this repository (${schema.path}): install the CLI in the repository for a path every checkout has`,
      );
    }
    out.say(`next: algolib validate ${manifestFile}, then algolib publish ${packageFile}`);
    return 0;
  },
};
