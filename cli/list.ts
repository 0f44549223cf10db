/**
 * `algolib list`: one row per library registered through the pipeline, from the library records: name, the
 * version CityVisual has, AlgoLibId, the state of the newest upload, when it changed, and the current package.
 */
import { librariesPrefixOf } from '../shared/library-record.ts';
import { COMMON_OPTIONS, expectPositionals, parseCommandArgs, TARGET_OPTIONS } from './args.ts';
import { openBucket } from './bucket.ts';
import type { Command } from './command.ts';
import { widthOf } from './fit.ts';
import { type LibraryRow, readLibraries, rowOf } from './libraries.ts';
import { createOutput, type Output } from './output.ts';
import { openTarget, planTarget } from './target.ts';

const OPTIONS = { ...COMMON_OPTIONS, ...TARGET_OPTIONS, json: { type: 'boolean' } } as const;

const usage = `Usage: algolib list [--json] [--local | --bucket b ...]

Lists the libraries the pipeline registered, one row each: name, current version (what CityVisual has),
AlgoLibId, state of the newest upload, when that was, and the current version's package key. Read from the
library records under <status-prefix>.libraries/.

Options:
  --json               Print an array of {name, version, algoLibId, packageKey, state, updatedAt} on stdout
                       (a field the library does not have yet is null).
  --status-prefix <p>  Where the function writes status objects (default status/).
  --local, --state-file <f>, --bucket, --region, --endpoint: the target, as for \`algolib publish --help\`.
  --debug              Print stack traces of unexpected errors.
  -h, --help           Show this help.

Exit codes: 0 listed (also when there are none), 2 usage or config.

Examples:
  algolib list --local
  algolib list --bucket my-algolibs --json`;

const HEADINGS = ['NAME', 'VERSION', 'ALGOLIBID', 'STATE', 'UPDATED', 'PACKAGE'] as const;

const cellsOf = (row: LibraryRow): string[] => [
  row.name,
  row.version ?? '-',
  row.algoLibId ?? '-',
  row.state,
  row.updatedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z'),
  row.packageKey ?? '-',
];

const stateColor = (out: Output, state: string, text: string): string => {
  if (state === 'REGISTERED') return out.colors.green(text);
  if (state === 'PENDING') return out.colors.yellow(text);
  return out.colors.red(text);
};

/** The rows as an aligned table; a line longer than `width` is cut with `…` (the package key goes first), never wrapped. */
export const tableLines = (rows: LibraryRow[], out: Output, width: number): string[] => {
  const table = [HEADINGS as readonly string[], ...rows.map(cellsOf)];
  const widths = HEADINGS.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  return table.map((cells, index) => {
    const line = cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ');
    const fitted = line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line;
    if (index === 0) return out.colors.dim(fitted);
    const row = rows[index - 1] as LibraryRow;
    // Colour only the state cell; its position is the same in the fitted line.
    const at = widths.slice(0, 3).reduce((sum, w) => sum + w + 2, 0);
    return at + row.state.length <= fitted.length
      ? `${fitted.slice(0, at)}${stateColor(out, row.state, row.state)}${fitted.slice(at + row.state.length)}`
      : fitted;
  });
};

export const list: Command = {
  usage,
  run: async (argv, env) => {
    const { values, positionals } = parseCommandArgs('list', argv, OPTIONS);
    expectPositionals('list', positionals, []);
    const out = createOutput({ json: values.json ?? false });
    const target = await openTarget(await planTarget('list', values, env, { needsFc: false }), out);
    try {
      const bucket = await openBucket(target);
      const records = await readLibraries(bucket, target.statusPrefix, (key) =>
        out.note(`skipped oss://${bucket.name}/${key}: not a library record`),
      );
      const rows = records.map(rowOf);
      if (values.json) {
        out.json(rows);
        return 0;
      }
      if (rows.length === 0) {
        out.note(
          `No libraries yet: no records under oss://${bucket.name}/${librariesPrefixOf(target.statusPrefix)} (publish one, or check --bucket and --status-prefix)`,
        );
        return 0;
      }
      // Cut to a terminal's width; a pipe (grep, a file) gets whole lines.
      const width = process.stdout.isTTY ? widthOf(process.stdout) : Number.POSITIVE_INFINITY;
      for (const line of tableLines(rows, out, width)) out.say(line);
      return 0;
    } finally {
      await target.close();
    }
  },
};
