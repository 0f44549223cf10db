/** The soak's report as Markdown tables: what a user reads, pastes into docs/reliability.md, and replays. */
import type { SoakOptions, SoakReport } from './run-soak.ts';
import type { Verdict } from './verify.ts';

/** The command that replays a run: same plan, same fault and crash streams. */
export const replayCommand = (options: Omit<SoakOptions, 'progress'>): string =>
  [
    'npm run soak --',
    `--pairs ${options.pairs}`,
    `--dup ${options.dup}`,
    `--cv-faults ${options.cvFaults}`,
    `--oss-faults ${options.ossFaults}`,
    `--crash ${options.crash}`,
    `--seed ${options.seed}`,
    `--concurrency ${options.concurrency}`,
    `--instances ${options.instances}`,
    `--timeout ${options.timeoutSeconds}`,
  ].join(' ');

const percent = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(2)}%`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const states = (verdict: Verdict) =>
  ['REGISTERED', 'REJECTED', 'CONFLICT', 'FAILED', 'PENDING', 'NONE']
    .filter((state) => verdict.byState[state])
    .map((state) => `${state} ${verdict.byState[state]}`)
    .join(', ');

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, count) => total + count, 0);

/** `action:kind` counts → `kind` counts. */
const byKind = (injected: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const [label, count] of Object.entries(injected)) {
    const kind = label.slice(label.lastIndexOf(':') + 1);
    out[kind] = (out[kind] ?? 0) + count;
  }
  return Object.entries(out)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
};

/**
 * The report as Markdown: the figures, the invariants, and the errors by class.
 *
 * @example
 * ```ts
 * process.stdout.write(formatReport(await runSoak(options)));
 * ```
 */
export const formatReport = (report: SoakReport): string => {
  const { drained, final, pairs } = report;
  const kinds = Object.entries(report.pairs.byKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['pairs', `${pairs.total} (${kinds})`],
    [
      'deliveries',
      `${report.deliveries.notifications + report.deliveries.redeliveries} (${report.deliveries.notifications} notifications + ${report.deliveries.redeliveries} re-deliveries); ${report.deliveries.replays} dead-letter replays`,
    ],
    [
      'invocations',
      `${report.fc.invocations} (${report.fc.retries} FC retries, ${report.fc.failed} failed attempts, ${report.fc.timeouts} timeouts, ${report.fc.instancesStarted} instances started)`,
    ],
    ['crashes (instances killed mid-invocation)', String(report.fc.crashes)],
    ['dead letters (FC retries exhausted)', `${report.deadLetters} (replayed in ${report.replayRounds} rounds)`],
    ['CreateAlgoLib calls', `${report.cityvisual.createCalls} (${report.cityvisual.describeCalls} DescribeAlgoLibs)`],
    ['libraries created', `${report.cityvisual.created} (table holds ${report.cityvisual.libraries})`],
    ['duplicates (libraries per name > 1)', String(final.duplicates.length)],
    [
      'terminal as expected after drain',
      `${drained.ok}/${pairs.total} (${percent(drained.ok, pairs.total)}): ${states(drained)}`,
    ],
    [
      'parked after drain (not finished, in dead letters)',
      `${drained.parked.length} (${drained.failed} of them FAILED)`,
    ],
    ['lost after drain (not finished, no dead letter)', String(drained.lost.length)],
    ['stuck PENDING', String(drained.stuckPending.length)],
    [
      'terminal as expected after replay',
      `${final.ok}/${pairs.total} (${percent(final.ok, pairs.total)}): ${states(final)}`,
    ],
    ['wrong outcomes', String(final.wrong.length)],
    ['REGISTERED algoLibId ≠ CityVisual id', String(final.idMismatch.length)],
    ['libraries without a REGISTERED status', String(final.orphans.length)],
    [
      'webhook deliveries',
      `${final.webhooks.total} (${final.webhooks.verified} verified, ${final.webhooks.duplicates} duplicates, ${final.webhooks.distinctIds} ids, at most ${final.webhooks.maxPerId} per id); outcomes without one: ${final.webhooks.missing.length}`,
    ],
    [
      'time from the completing upload to a terminal status',
      `median ${seconds(report.latency.medianMs)}, p99 ${seconds(report.latency.p99Ms)}, max ${seconds(report.latency.maxMs)} (${report.latency.samples} pairs)`,
    ],
    [
      'version streams',
      `${final.versions.streams} streams: ${final.versions.updated} updates, ${final.versions.downgrades} VERSION_DOWNGRADE; not at the highest: ${final.versions.notHighest.length}, not rising: ${final.versions.notRising.length}, records off: ${final.versions.recordMismatch.length}`,
    ],
    [
      'name claims',
      `${final.claims.names} names, ${final.claims.generations} generations (${final.claims.takeovers} takeovers)`,
    ],
    [
      'secret canary hits',
      `${report.leaks.hits.length} in ${report.leaks.scanned.texts} texts (${(report.leaks.scanned.chars / 1e6).toFixed(1)} M chars: ${Object.entries(
        report.leaks.scanned.byPlace,
      )
        .map(([place, count]) => `${place} ${count}`)
        .join(', ')})`,
    ],
    ['faults injected: CityVisual', `${sum(report.faults.cityvisual)}: ${byKind(report.faults.cityvisual)}`],
    ['faults injected: OSS', `${sum(report.faults.oss)}: ${byKind(report.faults.oss)}`],
    ['duration', seconds(report.durationMs)],
  ];
  const table = ['| | |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)];
  const checks = ['| invariant | value | holds |', '|---|---|---|'];
  for (const check of report.invariants)
    checks.push(`| ${check.name} | ${check.value} | ${check.ok ? 'yes' : '**NO**'} |`);
  const errors = ['| errors by class | count |', '|---|---|'];
  for (const [label, count] of Object.entries(report.errorClasses).sort(([, a], [, b]) => b - a))
    errors.push(`| ${label} | ${count} |`);
  const details = report.invariants
    .filter((check) => !check.ok && check.detail)
    .flatMap((check) => [`${check.name}:`, ...(check.detail ?? []).map((line) => `  - ${line}`)]);
  return [
    `Soak, seed ${report.options.seed}: ${report.ok ? 'every invariant holds' : 'AN INVARIANT BROKE'}`,
    '',
    ...table,
    '',
    ...checks,
    '',
    ...errors,
    '',
    ...(details.length > 0 ? [...details, ''] : []),
    `Replay: ${replayCommand(report.options)}`,
    '',
  ].join('\n');
};
