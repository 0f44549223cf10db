/**
 * Where the CLI writes, and how: results on stdout (only the JSON document with `--json`), everything for people on
 * stderr. Progress bars, spinners and colours appear only when both streams are terminals, so a pipe or a CI log
 * gets calm, complete lines and nothing that redraws.
 */
import picocolors from 'picocolors';
import { redact } from './errors.ts';
import { widthOf } from './fit.ts';
import { progressFrame } from './progress-line.ts';

export { formatBytes, formatDuration } from './progress-line.ts';

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

const NO_PROGRESS: Progress = { update: () => {}, stop: () => {} };
const NO_SPINNER: Spinner = { update: () => {}, stop: () => {} };

// Redraws at most this often: a terminal over SSH should not get a frame per 64 KiB.
const FRAME_MS = 100;
const CLEAR_LINE = '\r\u001b[K';

const createProgress = (stream: NodeJS.WriteStream, label: string, total: number): Progress => {
  const started = Date.now();
  let drawn = 0;
  let stopped = false;
  const draw = (done: number) =>
    stream.write(
      `${CLEAR_LINE}${progressFrame({ label, done, total, elapsedMs: Date.now() - started }, widthOf(stream))}`,
    );
  let last = 0;
  draw(0);
  return {
    update: (done) => {
      last = done;
      if (stopped || Date.now() - drawn < FRAME_MS) return;
      drawn = Date.now();
      draw(done);
    },
    // The last frame stays, ended by a newline, so what follows starts on a line of its own (also after Ctrl-C).
    stop: () => {
      if (stopped) return;
      stopped = true;
      draw(last);
      stream.write('\n');
    },
  };
};

const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

// No signal handlers here: a command that is interrupted stops the spinner itself and says what happened.
const createSpinner = (stream: NodeJS.WriteStream, text: string): Spinner => {
  let current = text;
  let frame = 0;
  const draw = () => {
    const line = `${SPINNER_FRAMES[frame % SPINNER_FRAMES.length]} ${current}`;
    stream.write(`${CLEAR_LINE}${line.slice(0, widthOf(stream) - 1)}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  let stopped = false;
  return {
    update: (next) => {
      current = next;
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write(CLEAR_LINE);
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
