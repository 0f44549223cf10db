/**
 * `npm run soak -- --pairs N --dup D --cv-faults R --oss-faults R --crash R --seed S`: runs the soak on a fresh local
 * cloud, prints the report (Markdown), exits 0 when every invariant holds, 1 when one broke, 2 on a usage error.
 * Built with esbuild into dist/proving/soak.js (see the `soak` script); the seed in the output replays the run.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../local/cloud.ts';
import { formatReport } from './report.ts';
import { DEFAULT_SOAK_OPTIONS, runSoak, type SoakOptions } from './run-soak.ts';

const USAGE = `Usage: npm run soak -- [options]

  --pairs N          pairs to publish (default 1000)
  --dup D            deliveries of each object event, 1 to D (default ${DEFAULT_SOAK_OPTIONS.dup})
  --cv-faults R      share of CityVisual requests that fail, every kind alike (default ${DEFAULT_SOAK_OPTIONS.cvFaults})
  --oss-faults R     share of OSS requests that fail (default ${DEFAULT_SOAK_OPTIONS.ossFaults})
  --crash R          share of invocations whose FC instance is killed (default ${DEFAULT_SOAK_OPTIONS.crash})
  --seed S           seed of the plan, the faults and the crashes (default: random, printed)
  --concurrency C    publishers at once (default ${DEFAULT_SOAK_OPTIONS.concurrency})
  --instances I      FC instances at most (default ${DEFAULT_SOAK_OPTIONS.instances})
  --timeout T        the function's Timeout in seconds (default ${DEFAULT_SOAK_OPTIONS.timeoutSeconds})
  --json FILE        where to write the whole report as JSON (default: dist/proving/soak-<seed>.json, beside
                     the soak's bundle: the details of a broken invariant, e.g. which library, are never lost)
`;

class UsageError extends Error {}

const number = (
  flag: string,
  raw: string | undefined,
  fallback: number,
  check: (value: number) => boolean,
  what: string,
) => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new UsageError(`Expected --${flag} to be ${what}, got ${raw}`);
  return value;
};

const rate = (value: number) => value >= 0 && value <= 1;
const positiveInteger = (value: number) => Number.isInteger(value) && value >= 1;

/** Parses the flags into soak options; throws `UsageError` naming the flag. */
const parseSoakArgs = (argv: string[]): { options: SoakOptions; json: string | undefined } => {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      pairs: { type: 'string' },
      dup: { type: 'string' },
      'cv-faults': { type: 'string' },
      'oss-faults': { type: 'string' },
      crash: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
      instances: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new UsageError('');
  const d = DEFAULT_SOAK_OPTIONS;
  return {
    options: {
      pairs: number('pairs', values.pairs, 1000, positiveInteger, 'a positive integer'),
      dup: number('dup', values.dup, d.dup, positiveInteger, 'a positive integer'),
      cvFaults: number('cv-faults', values['cv-faults'], d.cvFaults, rate, 'a rate from 0 to 1'),
      ossFaults: number('oss-faults', values['oss-faults'], d.ossFaults, rate, 'a rate from 0 to 1'),
      crash: number('crash', values.crash, d.crash, rate, 'a rate from 0 to 1'),
      seed: number(
        'seed',
        values.seed,
        Math.floor(Math.random() * 2 ** 31),
        (value) => Number.isInteger(value) && value >= 0,
        'a non-negative integer',
      ),
      concurrency: number('concurrency', values.concurrency, d.concurrency, positiveInteger, 'a positive integer'),
      instances: number('instances', values.instances, d.instances, positiveInteger, 'a positive integer'),
      timeoutSeconds: number(
        'timeout',
        values.timeout,
        d.timeoutSeconds,
        (value) => positiveInteger(value) && value >= 5,
        'an integer of at least 5',
      ),
      asyncRetryBaseMs: d.asyncRetryBaseMs,
      replayRounds: d.replayRounds,
    },
    json: values.json,
  };
};

/**
 * The FC emulator forks `instance-runner.cjs` from beside the bundle that inlined it: put it there, every run. (Copied
 * only when missing, a runner left by an older build stayed: one without per-invocation credentials made the function
 * sign with its initializer's STS triplet until the emulator expired it, hundreds of InvalidSecurityToken failures
 * per 1000 pairs in the soaks of one working copy and none in another.)
 */
const placeInstanceRunner = () => {
  if (typeof __dirname !== 'string') return;
  const source = join(projectRoot(), 'local', 'fc', 'instance-runner.cjs');
  const target = join(__dirname, 'instance-runner.cjs');
  if (target !== source) copyFileSync(source, target);
};

const main = async () => {
  let parsed: ReturnType<typeof parseSoakArgs>;
  try {
    parsed = parseSoakArgs(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message ? `${message}\n\n` : ''}${USAGE}`);
    process.exitCode = 2;
    return;
  }
  placeInstanceRunner();
  const { options, json } = parsed;
  process.stderr.write(`soak: ${options.pairs} pairs, seed ${options.seed}\n`);
  const report = await runSoak({ ...options, progress: (line) => process.stderr.write(`soak: ${line}\n`) });
  process.stdout.write(formatReport(report));
  // Always written: the Markdown summary names a broken invariant, the JSON names what broke it (pairs, libraries).
  const jsonPath = json ?? (typeof __dirname === 'string' ? join(__dirname, `soak-${options.seed}.json`) : undefined);
  if (jsonPath) {
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`soak: the whole report: ${jsonPath}\n`);
  }
  process.exitCode = report.ok ? 0 : 1;
};

void main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
