/**
 * Where the CLI writes, and how: results on stdout (only the JSON document with `--json`), everything for people on
 * stderr. Progress bars, spinners and colours appear only when both streams are terminals, so a pipe or a CI log
 * gets calm, complete lines and nothing that redraws.
 */
import { SingleBar } from 'cli-progress';
import picocolors from 'picocolors';
import yoctoSpinner from 'yocto-spinner';
import { redact } from './errors.ts';

type Colors = ReturnType<typeof picocolors.createColors>;

export type Progress = {
  /** Bytes done so far. */
  update(done: number): void;
  stop(): void;
};

export type Spinner = {
  /** Replaces the text after the spinner. */
  update(text: string): void;
  stop(): void;
};

export type Output = {
  /** True when progress and colour may be drawn (stdout and stderr are terminals). */
  interactive: boolean;
  colors: Colors;
  /** A human result line: stdout, or stderr when stdout is reserved for `--json`. */
  say(line: string): void;
  /** A note for people (what is happening, hints): always stderr. */
  note(line: string): void;
  /** The one error line, on stderr. */
  error(line: string): void;
  /** Prints `value` as the JSON document on stdout. */
  json(value: unknown): void;
  /** A byte progress bar on stderr (bytes, rate, time left); does nothing when not interactive. */
  progress(label: string, total: number): Progress;
  /** A spinner on stderr; does nothing when not interactive. */
  spinner(text: string): Spinner;
};

export type OutputOptions = {
  json?: boolean;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  env?: Record<string, string | undefined>;
};

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export const formatBytes = (bytes: number): string => {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
};

/** `65_000` → `1m 5s`, `4_200` → `4s`. */
export const formatDuration = (ms: number): string => {
  const seconds = Math.floor(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
};

const NO_PROGRESS: Progress = { update: () => {}, stop: () => {} };
const NO_SPINNER: Spinner = { update: () => {}, stop: () => {} };

const createProgress = (stream: NodeJS.WriteStream, label: string, total: number): Progress => {
  const started = Date.now();
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate} | {eta_formatted} left`,
    barsize: 24,
    // A hidden cursor would stay hidden after Ctrl-C: cli-progress does not restore it on signals.
    hideCursor: false,
    etaBuffer: 20,
    formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? formatBytes(value) : String(value)),
  });
  const rate = (done: number) => `${formatBytes(done / Math.max((Date.now() - started) / 1000, 0.001))}/s`;
  bar.start(total, 0, { rate: rate(0) });
  return {
    update: (done) => bar.update(done, { rate: rate(done) }),
    stop: () => bar.stop(),
  };
};

const createSpinner = (stream: NodeJS.WriteStream, text: string): Spinner => {
  // yocto-spinner's own SIGINT/SIGTERM handling restores the cursor before exiting (130/143), as a person expects.
  const spinner = yoctoSpinner({ text, stream }).start();
  return {
    update: (next) => {
      spinner.text = next;
    },
    stop: () => {
      spinner.stop();
    },
  };
};

/**
 * The process's output, decided once from the streams and the environment (`NO_COLOR` turns colour off).
 *
 * @example
 * ```ts
 * const out = createOutput({ json: values.json });
 * const bar = out.progress('uploading', size); bar.update(size); bar.stop();
 * out.json(status);
 * ```
 */
export const createOutput = (options: OutputOptions = {}): Output => {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const interactive = Boolean(stdout.isTTY && stderr.isTTY) && env.TERM !== 'dumb';
  const colors = picocolors.createColors(interactive && !env.NO_COLOR);
  const line = (stream: NodeJS.WriteStream, text: string) => stream.write(`${redact(text)}\n`);
  return {
    interactive,
    colors,
    say: (text) => line(options.json ? stderr : stdout, text),
    note: (text) => line(stderr, text),
    error: (text) => line(stderr, `${colors.red('error:')} ${text}`),
    json: (value) => line(stdout, JSON.stringify(value, null, 2)),
    progress: (label, total) => (interactive ? createProgress(stderr, label, total) : NO_PROGRESS),
    spinner: (text) => (interactive ? createSpinner(stderr, text) : NO_SPINNER),
  };
};
