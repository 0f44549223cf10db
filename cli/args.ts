/**
 * Argument parsing for every command: `node:util` parseArgs in strict mode (an unknown flag is a usage error, exit 2),
 * the option sets commands share, and the parsers of option values, with messages the p-retry way.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type PairKeys, pairOf } from '../shared/keys.ts';
import { UsageError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Where `publish` puts packages by default (the function's PACKAGE_PREFIX): keys are `<prefix><name>/<file>`. */
export const DEFAULT_PREFIX = 'library/';

/** Accepted by every command. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
} as const satisfies Options;

/** How a command finds the bucket: the cloud (flags + credential variables) or the local cloud (`--local`). */
export const TARGET_OPTIONS = {
  local: { type: 'boolean' },
  'state-file': { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  bucket: { type: 'string' },
  'status-prefix': { type: 'string' },
} as const satisfies Options;

/** `--wait` and its `--timeout`, shared by publish and replay. */
export const WAIT_OPTIONS = {
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
} as const satisfies Options;

/** What the Function Compute API needs to invoke the function (replay). */
export const FC_OPTIONS = {
  'account-id': { type: 'string' },
  'fc-region': { type: 'string' },
  'fc-endpoint': { type: 'string' },
  service: { type: 'string' },
  function: { type: 'string' },
} as const satisfies Options;

export type Parsed<O extends Options> = {
  values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };
  positionals: string[];
};

type NodeError = { code?: string; message: string };

/**
 * Parses `argv` for `command` with `options`; anything parseArgs refuses becomes a `UsageError`.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandArgs('status', argv, { ...COMMON_OPTIONS, json: { type: 'boolean' } });
 * ```
 */
export const parseCommandArgs = <O extends Options>(command: string, argv: string[], options: O): Parsed<O> => {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as Parsed<O>['values'], positionals };
  } catch (error) {
    const { code, message } = error as NodeError;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      // parseArgs explains itself well but adds advice about `--` that does not apply here.
      throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, ''), command);
    }
    throw error;
  }
};

/** Exactly `count` positionals, named in the message when missing or extra. */
export const expectPositionals = (command: string, positionals: string[], names: string[]): string[] => {
  if (positionals.length < names.length) {
    throw new UsageError(
      `Expected ${names.map((name) => `<${name}>`).join(' ')}, got ${positionals.length === 0 ? 'nothing' : positionals.join(' ')}`,
      command,
    );
  }
  if (positionals.length > names.length) {
    throw new UsageError(
      `Expected only ${names.map((name) => `<${name}>`).join(' ')}, got also ${positionals.slice(names.length).join(' ')}`,
      command,
    );
  }
  return positionals;
};

/** `--timeout 30` → 30_000 ms. */
export const parseSeconds = (
  command: string,
  flag: string,
  raw: string | undefined,
  fallbackSeconds: number,
): number => {
  if (raw === undefined) return fallbackSeconds * 1000;
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`Expected \`--${flag}\` to be a positive number of seconds, got ${raw}`, command);
  }
  return Math.round(seconds * 1000);
};

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `--part-size 5MiB` → 5_242_880 (binary units; `k`, `KB` and `KiB` all mean 1024). */
export const parseSize = (
  command: string,
  flag: string,
  raw: string | undefined,
  fallback: number,
  min = 1,
): number => {
  if (raw === undefined) return fallback;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < min) {
    throw new UsageError(
      `Expected \`--${flag}\` to be a size of at least ${min} bytes (e.g. 512KiB, 8MiB), got ${raw}`,
      command,
    );
  }
  return bytes;
};

/** A key prefix: empty or ending with `/`, as the function's PACKAGE_PREFIX and STATUS_PREFIX are. */
export const parsePrefix = (
  command: string,
  flag: string,
  raw: string | undefined,
  fallback: string,
  allowEmpty = true,
): string => {
  if (raw === undefined) return fallback;
  if ((raw === '' && !allowEmpty) || (raw !== '' && !raw.endsWith('/')) || raw.startsWith('/')) {
    throw new UsageError(
      `Expected \`--${flag}\` to be ${allowEmpty ? 'empty or ' : ''}a key prefix ending with "/" (e.g. library/), got ${JSON.stringify(raw)}`,
      command,
    );
  }
  return raw;
};

/** The pair `<package-key>` names; the manifest's key names the same pair. */
export const pairKeysOf = (command: string, key: string): PairKeys => {
  const pair = pairOf(key, '');
  if (!pair) {
    throw new UsageError(
      `Expected <package-key> to be an object key ending with .tar.gz (or .manifest.json), got ${key}`,
      command,
    );
  }
  return pair;
};
