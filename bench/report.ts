/** docs/bench.md and docs/bench-latency.svg from one run's figures (the same figures go to docs/bench.json). */
import type { BurstResult } from './burst.ts';
import type { CliStart } from './cli-start.ts';
import type { ColdSeries, ProfileBreakdown } from './cold-start.ts';
import { mark, mib, ms, range, table, x, x3 } from './format.ts';
import type { FunctionRuns } from './function-runs.ts';
import type { PublishAnswer } from './publish-answer.ts';
import { cliVerdicts, renderCliSections } from './report-cli.ts';
import type { RequestCount } from './requests.ts';
import { median, pairedRatio, percentile, summarize } from './stats.ts';
import type { Variants } from './variants.ts';

export type BenchReport = {
  command: string;
  quick: boolean;
  sections: string[];
  startedAt: string;
  seconds: number;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; v8: string; os: string };
  emulatorDataDir: string;
  loadavg: Array<{ section: string; at: 'start' | 'end'; loadavg: number[] }>;
  baselineRef: string | null;
  variants?: Variants;
  cold?: Record<string, ColdSeries>;
  coldFlags?: string[];
  coldFlagged?: Record<string, ColdSeries>;
  components?: Record<string, ColdSeries>;
  profile?: { median: ProfileBreakdown; runs: number };
  requests?: RequestCount[];
  functionRuns?: FunctionRuns;
  burst?: BurstResult;
  /** The same burst with fewer FC instances on the same cores. */
  burstSweep?: BurstResult[];
  cliStart?: CliStart;
  publishAnswer?: PublishAnswer;
};

export type Verdict = { figure: string; target: string; measured: string; met: boolean | undefined };

const labelOf = (report: BenchReport, name: string): string => {
  const { variants } = report;
  const all = [
    { name: 'bare', label: 'bare `node` (nothing loaded)' },
    { name: 'naive', label: 'naive handler: ali-oss + pop-core from node_modules' },
    ...(variants ? [variants.after, ...(variants.before ? [variants.before] : []), ...variants.experiments] : []),
    ...(variants?.components ?? []),
  ];
  return all.find((entry) => entry.name === name)?.label ?? name;
};

/** The headline figures against their targets. */
export const verdicts = (report: BenchReport): Verdict[] => {
  const out: Verdict[] = [];
  const cold = report.cold;
  if (cold?.after && cold.naive) {
    const ratio = pairedRatio(cold.after.loadInit, cold.naive.loadInit);
    out.push({
      figure: 'Cold start: load + initialize, bundle ÷ naive handler (plain `node`)',
      target: '≤ 0.40×',
      measured: `${x3(ratio)} (${ms(median(cold.after.loadInit))} vs ${ms(median(cold.naive.loadInit))})`,
      met: ratio <= 0.4,
    });
  }
  const clean = report.requests?.find((r) => !r.webhooks && r.scenario.startsWith('manifest event: the registration'));
  const cleanHooks = report.requests?.find(
    (r) => r.webhooks && r.scenario.startsWith('manifest event: the registration'),
  );
  if (clean) {
    out.push({
      figure: 'Requests, clean registration (manifest event, name claim included)',
      target: '≤ 5',
      measured: `${clean.requests} without webhooks; ${cleanHooks?.requests ?? '–'} with (the status is rewritten with \`notifications\`)`,
      met: clean.requests <= 5,
    });
    const packageBytes = Math.max(clean.packageBytesRead, cleanHooks?.packageBytesRead ?? 0);
    out.push({
      figure: 'Package bytes read, manifest with `crc64`',
      target: '0',
      measured: `${packageBytes} B (of a ${mib(clean.packageSize)} package)`,
      met: packageBytes === 0,
    });
  }
  const series = report.functionRuns?.perEvent.series;
  // The target is held against the bare script that makes the handler's own requests; the first design's five are
  // shown beside it (what the releases work's requests cost on top).
  for (const [bareName, what] of [
    ['bare-same', 'bare SDK script, the same requests'],
    ['bare', "bare SDK script, the first design's five requests"],
  ] as const) {
    const bare = series?.[bareName];
    if (!series?.after || !bare) continue;
    const wall = pairedRatio(series.after.wallMs, bare.wallMs);
    const cpu = pairedRatio(series.after.cpuMs, bare.cpuMs);
    const target = bareName === 'bare-same' ? '≤ 1.2×' : '(context)';
    out.push({
      figure: `Per event, handler ÷ ${what}: wall`,
      target,
      measured: `${x3(wall)} (${ms(median(series.after.wallMs))} vs ${ms(median(bare.wallMs))})`,
      met: bareName === 'bare-same' ? wall <= 1.2 : undefined,
    });
    out.push({
      figure: `Per event, handler ÷ ${what}: CPU`,
      target,
      measured: `${x3(cpu)} (${ms(median(series.after.cpuMs))} vs ${ms(median(bare.cpuMs))})`,
      met: bareName === 'bare-same' ? cpu <= 1.2 : undefined,
    });
  }
  const burst = report.burst;
  if (burst) {
    out.push({
      figure: `Burst of ${burst.pairs} pairs: registrations per second`,
      target: '≥ 100 /s',
      measured: `${burst.registrationsPerSecond.toFixed(1)} /s`,
      met: burst.registrationsPerSecond >= 100,
    });
    out.push({
      figure: 'Burst: p99 from the manifest stored to the terminal status written',
      target: '≤ 1 s',
      measured: `${ms(burst.latencyMs.p99)} (p50 ${ms(burst.latencyMs.median)})`,
      met: burst.latencyMs.p99 <= 1000,
    });
  }
  const memory = report.functionRuns?.memory;
  if (memory) {
    const peak = Math.max(...memory.samples.map((s) => s.rss));
    const growth = retainedGrowth(memory.retained);
    out.push({
      figure: `Function memory over ${report.functionRuns?.memorySettings.events.toLocaleString('en')} events: peak RSS`,
      target: '< 128 MiB',
      measured: mib(peak),
      met: peak < 128 * 2 ** 20,
    });
    out.push({
      figure: 'Function memory: retained heap (after a full GC), first 1,000 events to the last',
      target: 'flat',
      measured: `${growth.first} → ${growth.last} (${growth.delta >= 0 ? '+' : ''}${(growth.delta / 2 ** 20).toFixed(1)} MiB)`,
      met: Math.abs(growth.delta) < 4 * 2 ** 20,
    });
  }
  out.push(...cliVerdicts(report));
  return out;
};

const retainedGrowth = (retained: Array<{ events: number; heapUsed: number }>) => {
  const first = retained.find((s) => s.events >= 1000) ?? retained[0];
  const last = retained[retained.length - 1];
  const firstBytes = first?.heapUsed ?? 0;
  const lastBytes = last?.heapUsed ?? 0;
  return {
    first: `${mib(firstBytes)} at ${first?.events ?? 0}`,
    last: `${mib(lastBytes)} at ${last?.events ?? 0}`,
    delta: lastBytes - firstBytes,
  };
};

const noise = (report: BenchReport) => {
  const loads = report.loadavg.map((entry) => entry.loadavg[0] ?? 0);
  const spreads: number[] = [];
  for (const series of Object.values(report.cold ?? {})) {
    if (median(series.loadInit) > 0) spreads.push(summarize(series.loadInit).spread);
  }
  for (const series of Object.values(report.functionRuns?.perEvent.series ?? {}))
    spreads.push(summarize(series.wallMs).spread);
  return {
    minLoad: Math.min(...loads),
    maxLoad: Math.max(...loads),
    spread: median(spreads),
  };
};

const coldTable = (report: BenchReport, cold: Record<string, ColdSeries>) => {
  const naive = cold.naive;
  const bare = cold.bare;
  return table(
    ['subject', 'load + initialize (median)', 'p10 – p90', '× naive', 'process wall', 'wall − bare', 'RSS after'],
    Object.entries(cold).map(([name, series]) => [
      labelOf(report, name),
      name === 'bare' ? '–' : ms(median(series.loadInit)),
      name === 'bare' ? '–' : range(series.loadInit),
      name === 'bare' || !naive ? '–' : x(pairedRatio(series.loadInit, naive.loadInit)),
      ms(median(series.wall)),
      bare && name !== 'bare' ? ms(median(series.wall) - median(bare.wall)) : '–',
      mib(median(series.rss)),
    ]),
  );
};

const coldSection = (report: BenchReport): string => {
  const cold = report.cold;
  if (!cold) return '';
  const rounds = cold.after?.loadInit.length ?? 0;
  const parts = [
    '## 1. Cold start',
    '',
    `Each row is one fresh \`node\` process per run (\`bench/probe/cold-probe.cjs\`): \`require\` of the function's module, then \`initialize(context)\`, timed inside the process; "process wall" is spawn to exit, from the parent. ${rounds} runs per subject, the subjects interleaved round by round (one unrecorded round first). "× naive" is the median of the per-round ratios.`,
    '',
    coldTable(report, cold),
    '',
  ];
  if (report.coldFlagged) {
    parts.push(
      `The same, with the flag the FC emulator starts instances with (\`${(report.coldFlags ?? []).join(' ')}\`, from MemorySize). Any V8 flag makes Node 20 reject its own built-in code cache, so every subject pays to compile Node's modules too:`,
      '',
      coldTable(report, report.coldFlagged),
      '',
    );
  }
  if (report.components) {
    const bare = report.components.bare;
    parts.push(
      '**Where the time goes, by component.** Each component bundled alone with the same build, loaded in a fresh process (medians; each includes the Node built-ins it needs, so they do not add up):',
      '',
      table(
        ['component', 'load + initialize', 'p10 – p90'],
        Object.entries(report.components)
          .filter(([name]) => name !== 'bare' || !bare)
          .map(([name, series]) => [labelOf(report, name), ms(median(series.loadInit)), range(series.loadInit)]),
      ),
      '',
    );
  }
  if (report.profile) {
    const entries = Object.entries(report.profile.median).sort((a, b) => b[1] - a[1]);
    const total = entries.reduce((sum, [, value]) => sum + value, 0);
    parts.push(
      `**Where the time goes, by kind** (\`--cpu-prof\` of the bundle's cold start, ${report.profile.runs} runs, medians of self time inside the probe's \`require\` + \`initialize\`; the profiler itself slows the process down):`,
      '',
      table(
        ['kind', 'self time', 'share'],
        entries.map(([kind, value]) => [kind, ms(value), `${((100 * value) / total).toFixed(0)}%`]),
      ),
      '',
    );
  }
  return parts.join('\n');
};

const requestsSection = (report: BenchReport): string => {
  const requests = report.requests;
  if (!requests) return '';
  return [
    '## 2. Requests and bytes per registration',
    '',
    "From the emulators' counters and request logs, for one pair at a time on a quiet local cloud (OSS → FC emulator → the bundle). The function's requests are every OSS request except the publisher's uploads, plus every CityVisual request; webhook POSTs are listed apart. Package 1 MiB, so that reading it could not hide.",
    '',
    table(
      [
        'scenario',
        'webhooks',
        'OSS + CityVisual',
        'OSS',
        'CityVisual',
        'webhook POSTs',
        'bytes served',
        'package bytes read',
        'final state',
      ],
      requests.map((r) => [
        r.scenario,
        r.webhooks ? 'yes' : 'no',
        r.requests,
        Object.entries(r.oss)
          .map(([op, count]) => `${op} ×${count}`)
          .join(', '),
        Object.entries(r.cityvisual)
          .map(([op, count]) => `${op} ×${count}`)
          .join(', ') || '–',
        r.webhookDeliveries,
        r.bytesServed,
        r.packageBytesRead,
        `${r.state ?? '–'}${r.created === false ? ' (created: false)' : ''}`,
      ]),
    ),
    '',
  ].join('\n');
};

const perEventSection = (report: BenchReport): string => {
  const runs = report.functionRuns;
  if (!runs) return '';
  const { series } = runs.perEvent;
  const bare = series['bare-same'] ?? series.bare;
  const bareLabels: Record<string, string> = {
    'bare-same': "bare SDK script, the handler's requests (bench/bare-registration.ts, `same`)",
    bare: "bare SDK script, the first design's five requests (`first-design`)",
  };
  const isBare = (name: string) => name in bareLabels;
  const rows = Object.entries(series).map(([name, s]) => [
    bareLabels[name] ?? labelOf(report, name),
    ms(median(s.wallMs)),
    range(s.wallMs),
    bare && !isBare(name) ? x(pairedRatio(s.wallMs, bare.wallMs)) : '–',
    ms(median(s.cpuMs)),
    bare && !isBare(name) ? x(pairedRatio(s.cpuMs, bare.cpuMs)) : '–',
    Object.entries(s.outcomes)
      .map(([state, count]) => `${state} ${count}`)
      .join(', '),
  ]);
  const memory = runs.memory;
  const peak = memory.samples.reduce(
    (best, s) => (s.rss > best.rss ? s : best),
    memory.samples[0] ?? { rss: 0, events: 0, heapTotal: 0, heapUsed: 0, external: 0 },
  );
  const growth = retainedGrowth(memory.retained);
  return [
    '## 3. Per-event cost',
    '',
    `The handler runs in a driver process of its own (\`bench/driver.ts\`), against a running local cloud in the bench's process, with the environment template.yml gives the function and an STS triplet with the FC emulator's permissions. Each event registers a fresh pair (the clean path, webhooks off). "× bare" is against the bare SDK script that makes the handler's own requests with ali-oss and pop-core (GET manifest ∥ HEAD package, GET library record, PUT claim, CreateAlgoLib, PUT status, PUT library record, PUT claim release; the versioning once per instance, as the handler asks it): what the handler adds to the same I/O. The bare script of the first design (GET manifest, HEAD package, PUT claim, CreateAlgoLib, PUT status) is shown beside it; the difference between the two bare rows is what the releases work's requests cost. ${series.bare?.wallMs.length ?? 0} rounds after a warm-up, the subjects interleaved in rotating order; CPU is \`process.cpuUsage()\` over the event (every thread of the process, GC included). Ratios are medians of per-round ratios.`,
    '',
    table(
      ['subject', 'wall (median)', 'wall p10 – p90', 'wall × bare', 'CPU (median)', 'CPU × bare', 'outcomes'],
      rows,
    ),
    '',
    '### Memory over many events',
    '',
    `${runs.memorySettings.events.toLocaleString('en')} events (${runs.memorySettings.pairs.toLocaleString('en')} registrations, then a duplicate delivery of each) through one handler in a host process with nothing else in it (\`bench/probe/memory-runner.cjs\`), ${runs.memorySettings.concurrency} in flight as InstanceConcurrency allows, webhooks on, \`${runs.memorySettings.execArgv.join(' ')}\` (the FC emulator's heap cap for MemorySize). \`process.memoryUsage()\` every 50 events; a full GC every 1,000 events shows what is retained.`,
    '',
    table(
      ['figure', 'value'],
      [
        [
          'peak RSS',
          `${mib(peak.rss)} (at event ${peak.events}; V8 heap total then ${mib(peak.heapTotal)}, used ${mib(peak.heapUsed)})`,
        ],
        ['RSS after load + initialize (full GC)', mib(memory.retained[0]?.rss ?? 0)],
        ['retained heap, first 1,000 events → last', `${growth.first} → ${growth.last}`],
        [
          'retained heap at each 1,000',
          `${memory.retained.map((s) => (s.heapUsed / 2 ** 20).toFixed(1)).join(', ')} MiB`,
        ],
        [
          'outcomes',
          `${Object.entries(memory.outcomes)
            .map(([state, count]) => `${state} ${count}`)
            .join(', ')}; failures ${memory.failures}`,
        ],
        [
          'throughput and CPU (one process, the cloud beside it)',
          `${((runs.memorySettings.events * 1000) / memory.wallMs).toFixed(0)} events/s, ${((1000 * memory.cpuSeconds) / runs.memorySettings.events).toFixed(2)} ms CPU per event`,
        ],
        ...runs.memoryExperiments.map((experiment) => [
          `experiment (not shipped): ${experiment.label}, ${experiment.events.toLocaleString('en')} events`,
          `peak RSS ${mib(Math.max(...experiment.result.samples.map((s) => s.rss)))}, ${((experiment.events * 1000) / experiment.result.wallMs).toFixed(0)} events/s, ${((1000 * experiment.result.cpuSeconds) / experiment.events).toFixed(2)} ms CPU per event`,
        ]),
      ],
    ),
    '',
  ].join('\n');
};

const burstSection = (report: BenchReport): string => {
  const burst = report.burst;
  if (!burst) return '';
  const lat = burst.latencyMs;
  return [
    '## 4. Burst',
    '',
    `${burst.pairs.toLocaleString('en')} pairs dropped at once: ${burst.uploadConcurrency} publishers in a process of their own upload package then manifest; OSS notifies the FC emulator, which runs the bundle in at most ${burst.maxInstances} child-process instances × InstanceConcurrency ${burst.instanceConcurrency}; the function calls OSS, CityVisual and the webhook receiver. All of it shares this machine's ${report.machine.cores} cores. Latency: from OSS storing the manifest to the terminal status PUT (the last status write before the pair's webhook arrived).`,
    '',
    '![latency distribution](bench-latency.svg)',
    '',
    table(
      ['figure', 'value'],
      [
        [
          'first upload → last terminal status',
          `${burst.seconds.toFixed(1)} s (uploads alone: ${burst.uploadSeconds.toFixed(1)} s)`,
        ],
        ['registrations per second', burst.registrationsPerSecond.toFixed(1)],
        ['latency p50 / p90 / p99 / max', `${ms(lat.median)} / ${ms(lat.p90)} / ${ms(lat.p99)} / ${ms(lat.max)}`],
        [
          'final states',
          Object.entries(burst.states)
            .map(([s, c]) => `${s} ${c}`)
            .join(', '),
        ],
        ['CreateAlgoLib calls', burst.createAlgoLibCalls],
        ["function's OSS requests per pair (both events)", burst.ossRequestsPerPair.toFixed(2)],
        [
          'FC',
          Object.entries(burst.fc)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
        [
          "function's log steps",
          Object.entries(burst.steps)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
        [
          'CPU seconds over the burst',
          `emulators (this process) ${burst.cpuSeconds.emulators.toFixed(1)}, function instances ${burst.cpuSeconds.instances?.toFixed(1) ?? '–'}, publishers ${burst.cpuSeconds.publishers.toFixed(1)}`,
        ],
        ['CPU per registration, all processes', cpuPerRegistration(burst)],
        ["emulators' event loop busy", `${(100 * burst.emulatorLoopBusy).toFixed(0)}% of the burst`],
      ],
    ),
    '',
    'The same burst with fewer instances sharing the same cores (each instance loads the bundle, warms its JIT up and competes for the cores):',
    '',
    table(
      [
        'FC instances × concurrency',
        'registrations/s',
        'p50',
        'p99',
        'CPU per registration',
        "emulators' loop busy",
        'claim.busy',
        'webhook POSTs',
      ],
      [burst, ...(report.burstSweep ?? [])].map((b) => [
        `${b.maxInstances} × ${b.instanceConcurrency}`,
        b.registrationsPerSecond.toFixed(1),
        ms(b.latencyMs.median),
        ms(b.latencyMs.p99),
        cpuPerRegistration(b),
        `${(100 * b.emulatorLoopBusy).toFixed(0)}%`,
        b.steps['claim.busy'] ?? 0,
        b.steps['webhook.delivery'] ?? 0,
      ]),
    ),
    '',
  ].join('\n');
};

const cpuPerRegistration = (burst: BurstResult) => {
  const { emulators, instances, publishers } = burst.cpuSeconds;
  if (instances === undefined) return '–';
  const perPair = ((emulators + instances + publishers) * 1000) / burst.pairs;
  return `${perPair.toFixed(1)} ms (emulators ${((emulators * 1000) / burst.pairs).toFixed(1)}, function ${((instances * 1000) / burst.pairs).toFixed(1)}, publishers ${((publishers * 1000) / burst.pairs).toFixed(1)})`;
};

export const renderMarkdown = (report: BenchReport, notes: string): string => {
  const n = noise(report);
  const m = report.machine;
  const head = [
    '# Benchmark: how close a registration comes to its floor',
    '',
    `Generated by \`${report.command}\` on ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC in ${Math.round(report.seconds / 60)} min${report.quick ? ' — **quick mode (small samples): not for decisions**' : ''}. Raw figures: [bench.json](bench.json).`,
    '',
    `**Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (V8 ${m.v8}), ${m.os}. Emulator data on \`${report.emulatorDataDir}\`. Baseline for "before": ${report.baselineRef ? `commit \`${report.baselineRef}\`` : 'none'}.`,
    '',
    `**Noise:** the 1-minute load average went from ${n.minLoad.toFixed(1)} to ${n.maxLoad.toFixed(1)} during the run on ${m.cores} cores${n.maxLoad > m.cores ? ' — other work shared the machine, so absolute times are inflated and only the side-by-side ratios are comparable across runs' : ''}; the typical series spread ((p90 − p10) / median) was ${(100 * n.spread).toFixed(0)}%. Every comparison below is measured side by side in this one run (interleaved), and reported as medians.`,
    '',
    '## Targets',
    '',
    table(
      ['figure', 'target', 'this run', ''],
      verdicts(report).map((v) => [v.figure, v.target, v.measured, mark(v.met)]),
    ),
    '',
  ].join('\n');
  return [
    head,
    coldSection(report),
    renderCliSections(report),
    requestsSection(report),
    perEventSection(report),
    burstSection(report),
    notes,
  ]
    .filter(Boolean)
    .join('\n');
};

/** A histogram of the burst's latencies with its cumulative share, p50 and p99 marked. Hand-made SVG. */
export const renderLatencySvg = (report: BenchReport): string => {
  const burst = report.burst;
  const latencies = [...(burst?.latencies ?? [])].sort((a, b) => a - b);
  const width = 760;
  const height = 360;
  const left = 60;
  const right = 60;
  const top = 40;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxMs = Math.max(1, latencies[latencies.length - 1] ?? 1);
  const bins = 40;
  const binMs = maxMs / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const value of latencies) {
    const bin = Math.min(bins - 1, Math.floor(value / binMs));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  const maxCount = Math.max(1, ...counts);
  const xOf = (value: number) => left + (value / maxMs) * plotW;
  const yOfCount = (count: number) => top + plotH - (count / maxCount) * plotH;
  const yOfShare = (share: number) => top + plotH - share * plotH;
  const bars = counts
    .map((count, index) => {
      const x0 = xOf(index * binMs);
      const y0 = yOfCount(count);
      return `<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${Math.max(0, plotW / bins - 1).toFixed(1)}" height="${(top + plotH - y0).toFixed(1)}" fill="#9ecae1"/>`;
    })
    .join('');
  const cdf = latencies
    .map(
      (value, index) =>
        `${index === 0 ? 'M' : 'L'}${xOf(value).toFixed(1)},${yOfShare((index + 1) / latencies.length).toFixed(1)}`,
    )
    .join(' ');
  const marker = (label: string, value: number, color: string, row: number) =>
    `<line x1="${xOf(value).toFixed(1)}" y1="${top}" x2="${xOf(value).toFixed(1)}" y2="${top + plotH}" stroke="${color}" stroke-dasharray="4 3"/><text x="${(xOf(value) - 4).toFixed(1)}" y="${top + 14 + 16 * row}" fill="${color}" font-size="12" text-anchor="end">${label} ${(value / 1000).toFixed(2)} s</text>`;
  const ticks = Array.from({ length: 6 }, (_, index) => (maxMs * index) / 5)
    .map(
      (value) =>
        `<line x1="${xOf(value).toFixed(1)}" y1="${top + plotH}" x2="${xOf(value).toFixed(1)}" y2="${top + plotH + 5}" stroke="#333"/><text x="${xOf(value).toFixed(1)}" y="${top + plotH + 20}" font-size="11" text-anchor="middle">${(value / 1000).toFixed(1)} s</text>`,
    )
    .join('');
  const shareTicks = [0, 0.5, 1]
    .map(
      (share) =>
        `<text x="${width - right + 6}" y="${(yOfShare(share) + 4).toFixed(1)}" font-size="11">${share * 100}%</text>`,
    )
    .join('');
  const title = burst
    ? `Burst of ${burst.pairs} pairs: manifest stored → terminal status (${latencies.length} pairs, ${burst.registrationsPerSecond.toFixed(0)} registrations/s)`
    : 'No burst in this run';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<title>${title}</title>
<rect width="${width}" height="${height}" fill="#fff"/>
<text x="${left}" y="22" font-size="14">${title}</text>
${bars}
<path d="${cdf}" fill="none" stroke="#08519c" stroke-width="2"/>
${latencies.length ? marker('p50', percentile(latencies, 50), '#238b45', 0) + marker('p99', percentile(latencies, 99), '#cb181d', 1) : ''}
<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>
${ticks}${shareTicks}
<text x="${left - 8}" y="${top + 4}" font-size="11" text-anchor="end">${maxCount}</text>
<text x="${left - 8}" y="${top + plotH}" font-size="11" text-anchor="end">0</text>
<text x="${left + plotW / 2}" y="${height - 10}" font-size="12" text-anchor="middle">latency (bars: pairs per bin, ${(binMs / 1000).toFixed(2)} s wide; line: cumulative share, right axis)</text>
</svg>
`;
};
