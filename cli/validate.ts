/**
 * `algolib validate <manifest> [--package <file>] [--json]`: checks a manifest offline with the function's own parser,
 * every error on its own line with its JSON path. With `--package`, fills `package` from the file the way publish
 * does and checks what the manifest already states; without it, says which `package` fields publish will fill.
 * Exit 0 valid, 1 invalid, 2 usage.
 */
import { COMMON_OPTIONS, expectPositionals, parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';
import { checkManifest, readManifestFile } from './manifest-input.ts';
import { createOutput } from './output.ts';
import type { PackageDigest } from './package-digest.ts';
import { invalidManifestLines } from './status-view.ts';

const OPTIONS = {
  ...COMMON_OPTIONS,
  package: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const usage = `Usage: algolib validate <manifest> [--package <file.tar.gz>] [--json]

Checks a manifest (schema v1) without touching the network. Every error is printed on its own line with its
JSON path and what was expected. \`package\` (size, crc64, sha256) may be left out: publish fills it from the
package file, and validate says so.

Options:
  --package <file>  Also check the manifest against this package file: fills package.size, .crc64 and .sha256
                    when absent (as publish does) and checks them when present.
  --json            Print {"valid", "errors", "manifest", "filled" or "toFill"} as JSON on stdout.
  --debug           Print stack traces of unexpected errors.
  -h, --help        Show this help.

Exit codes: 0 valid, 1 invalid, 2 usage (or a file that cannot be read or is not JSON).

Examples:
  algolib validate examples/face-detector-1.0.0.manifest.json --package examples/face-detector-1.0.0.tar.gz
  algolib validate dist/face-1.2.0.manifest.json --json`;

/** The package file's digest; its module (and node:crypto) loads only when --package asks for it. */
const digestPackage = async (file: string): Promise<PackageDigest> =>
  (await import('./package-digest.ts')).digestPackageFile(file);

export const validate: Command = {
  usage,
  run: async (argv) => {
    const { values, positionals } = parseCommandArgs('validate', argv, OPTIONS);
    const [manifestFile] = expectPositionals('validate', positionals, ['manifest']) as [string];
    const out = createOutput({ json: values.json ?? false });
    const bytes = await readManifestFile(manifestFile);
    const digest = values.package === undefined ? undefined : await digestPackage(values.package);
    const check = digest ? checkManifest(bytes, manifestFile, digest) : checkManifest(bytes, manifestFile);
    if (values.json) {
      out.json(
        check.ok
          ? {
              valid: true,
              errors: [],
              manifest: check.manifest,
              ...(digest ? { filled: check.filled } : { toFill: check.toFill }),
            }
          : { valid: false, errors: check.errors },
      );
    }
    if (!check.ok) {
      for (const line of invalidManifestLines(manifestFile, check.errors, out.colors)) out.say(line);
      return 1;
    }
    const { manifest } = check;
    out.say(`${out.colors.green('valid')} ${manifestFile}: ${manifest.name}@${manifest.version}`);
    if (check.toFill.length > 0) {
      const fields = check.toFill.join(', ');
      out.say(
        `  package: filled by \`algolib publish\` (${fields}); \`--package <file.tar.gz>\` computes and checks them now`,
      );
    }
    if (digest) {
      const verb =
        check.filled.length > 0
          ? `publish fills ${check.filled.map((field) => `package.${field}`).join(', ')}`
          : 'matches the manifest';
      out.say(
        `  package ${values.package}: ${digest.size} bytes, crc64 ${digest.crc64}, sha256 ${digest.sha256} (${verb})`,
      );
    }
    return 0;
  },
};
