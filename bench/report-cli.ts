/** The CLI's part of docs/bench.md: its start (`--version`, `validate`) and publish → answer, with their targets. */
import type { CliStart } from './cli-start.ts';
import { ms, range, table, x, x3 } from './format.ts';
import type { PublishAnswer, PublishRun } from './publish-answer.ts';
import { median, pairedRatio } from './stats.ts';

type Report = {
  cliStart?: CliStart;
  publishAnswer?: PublishAnswer;
  loadavg: Array<{ section: string; at: 'start' | 'end'; loadavg: number[] }>;
};

type Verdict = { figure: string; target: string; measured: string; met: boolean | undefined };

const loadOf = (report: Report, section: string) => {
  const at = (when: 'start' | 'end') =>
    report.loadavg.find((entry) => entry.section === section && entry.at === when)?.loadavg[0];
  const start = at('start');
  const end = at('end');
  return start === undefined || end === undefined ? 'unknown' : `${start.toFixed(1)} → ${end.toFixed(1)}`;
};

/** Per round: the floor of publish → answer, `publish` without --wait to exit plus the function's work. */
const floors = (runs: PublishRun[]) =>
  runs.map((run) => (run.functionMs === undefined ? Number.NaN : run.wallMs + run.functionMs));

const defined = (values: Array<number | undefined>) => values.filter((value): value is number => value !== undefined);

export const cliVerdicts = (report: Report): Verdict[] => {
  const out: Verdict[] = [];
  const wall = report.cliStart?.wall;
  if (wall?.bare && wall.version && wall.validate) {
    for (const [name, figure] of [
      ['version', '`algolib --version`'],
      ['validate', '`algolib validate` of a small manifest'],
    ] as const) {
      const ratio = pairedRatio(wall[name] as number[], wall.bare);
      out.push({
        figure: `CLI start: ${figure} ÷ bare \`node -e 0\` (wall)`,
        target: '≤ 1.50×',
        measured: `${x3(ratio)} (${ms(median(wall[name] as number[]))} vs ${ms(median(wall.bare))})`,
        met: ratio <= 1.5,
      });
    }
  }
  const runs = report.publishAnswer?.runs;
  if (runs?.wait && runs.upload) {
    const floor = floors(runs.upload);
    const ratio = pairedRatio(
      runs.wait.map((run) => run.wallMs),
      floor,
    );
    const reads = Math.max(...runs.wait.map((run) => run.statusReads));
    out.push({
      figure: 'Publish → answer: `publish --wait` ÷ its floor (start + uploads + the function), local cloud',
      target: '≤ 1.50×',
      measured: `${x3(ratio)} (${ms(median(runs.wait.map((run) => run.wallMs)))} vs ${ms(median(floor))}); at most ${reads} status reads`,
      met: ratio <= 1.5,
    });
  }
  return out;
};

const cliStartSection = (report: Report, start: CliStart): string => {
  const bare = start.wall.bare ?? [];
  const rows = start.subjects.map((subject) => {
    const series = start.wall[subject.name] ?? [];
    const before = start.wall[`${subject.name}-before`];
    return [
      subject.label,
      ms(median(series)),
      range(series),
      subject.name === 'bare' ? '1.00×' : x(pairedRatio(series, bare)),
      ms(median(series) - median(bare)),
      before ? x(pairedRatio(series, before)) : '–',
    ];
  });
  return [
    "## 1b. The CLI's start",
    '',
    `Each row is a fresh \`node\` process, spawn to exit, timed from the bench (\`bench/cli-start.ts\`); ${start.rounds} rounds, the subjects interleaved in rotating order (one unrecorded round first). "× bare" and "× before" are medians of the per-round ratios. Load average during the section: ${loadOf(report, 'CLI start')}. "Before" is today's source built the way \`scripts/build.mjs\` built the CLI before this work: one CommonJS bundle that inlines every command (3.3 MiB, parsed by every command); the CLI is now ES modules split by esbuild per command (\`cli/index.ts\` imports each command with \`await import()\`), so \`--version\` loads 6 KiB and no command the SDKs or the local cloud unless it uses them; \`validate\` runs from one CommonJS file of its own (below).`,
    '',
    table(['subject', 'wall (median)', 'p10 – p90', '× bare', '− bare', '× before'], rows),
    '',
    `What \`validate\` loads now (esbuild's metafile; \`test/unit/cli-bundle.test.ts\` keeps it so): \`bin/algolib.js\` runs it from one CommonJS file of its own, \`dist/cli/validate.cjs\` (75 KiB, zod ≈ 35 KiB; entry \`cli/validate-main.ts\`, the same dispatch as \`cli/index.ts\`; a test checks both say the same word for word) instead of the ES modules' 13 files (274 KiB, zod 218 KiB): no ES module loader, one file to read and compile; and it loads the package digest (\`node:crypto\`) only with \`--package\`. In the ES build, classic zod (the local cloud's) has a copy of zod's core of its own (\`scripts/cli-bundle.mjs\`): with one core, all that classic's \`z\` uses (JSON Schema output, \`z.compile\`) sat in the chunk \`validate\`, \`init\` and \`publish\` load, so \`node dist/cli/index.mjs validate\` now loads 99 KiB (zod 45 KiB), \`init\` 94 KiB instead of 269, \`publish\` 152 KiB instead of 328. Side by side while making the change (21–41 interleaved rounds, load average 1–5): ES modules with their own core 1.50–1.53× bare, the CommonJS file 1.30–1.33×. Tried and not shipped: a V8 code cache for the CommonJS file (\`vm.Script\` \`cachedData\`) measured 1.25× against 1.33× (CPU 1.21× against 1.33×); the target is met without a writable cache folder and a cache file per Node version.`,
    '',
  ].join('\n');
};

const publishSection = (report: Report, answer: PublishAnswer): string => {
  const floor = floors(answer.runs.upload ?? []);
  const rows = answer.subjects.map((subject) => {
    const runs = answer.runs[subject.name] ?? [];
    const wall = runs.map((run) => run.wallMs);
    return [
      subject.label,
      ms(median(wall)),
      range(wall),
      ms(median(defined(runs.map((run) => run.toManifestMs)))),
      ms(median(defined(runs.map((run) => run.functionMs)))),
      `${Math.min(...runs.map((run) => run.statusReads))} – ${Math.max(...runs.map((run) => run.statusReads))}`,
      subject.name === 'upload' ? '–' : x(pairedRatio(wall, floor)),
    ];
  });
  return [
    '## 1c. Publish → answer',
    '',
    `\`algolib publish\` of a small package (2 KiB, gzip) on a local cloud running in the bench's process (\`bench/publish-answer.ts\`; the function in an FC emulator instance, warmed by one unrecorded round), a fresh library name per run, ${answer.rounds} rounds with the subjects interleaved, the cloud idle before each run. **Floor** = \`publish\` without --wait (the CLI's start, validation and both uploads, to exit) + the function's work (OSS storing the manifest → the terminal status PUT, trigger delivery included), of the same round: ${ms(median(floor))} (median). "→ manifest stored" and "function" come from the emulators' log. Load average during the section: ${loadOf(report, 'publish → answer')}. "Before" is the CLI of before this work (one CommonJS bundle; \`--wait\` polled at once and then after 250, 500, 1000 ms).`,
    '',
    table(['subject', 'wall (median)', 'p10 – p90', '→ manifest stored', 'function', 'status reads', '× floor'], rows),
    '',
    "`--wait` now sleeps 100 ms before its first read (right after the upload the function has not run; the old first read could only miss), then 150, 250, 500 ms, 1 s and 2 s (`cli/wait.ts`): at most 4 reads in any second, one every 2 s after the fourth second. The cost of a poll that misses is at most the next sleep, so an answer in the first 100 ms of the function's work is read at 100 ms, one in the next 150 ms at 250 ms.",
    '',
    'Tried and not shipped: a conditional GET (`If-None-Match` with the last ETag) would make a miss cheaper in bytes but not sooner; the wait is the schedule, not the read.',
    '',
  ].join('\n');
};

/** The CLI sections of docs/bench.md, or '' when the run did not measure them. */
export const renderCliSections = (report: Report): string =>
  [
    report.cliStart ? cliStartSection(report, report.cliStart) : '',
    report.publishAnswer ? publishSection(report, report.publishAnswer) : '',
  ]
    .filter(Boolean)
    .join('\n');
