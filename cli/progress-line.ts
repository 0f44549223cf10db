/**
 * One frame of a byte progress bar, fitted to the terminal's width:
 * `uploading face-1.2.0.tar.gz [██████░░░░░░] 42% 25/60 MiB 12 MiB/s 3s left`. The rate and the time left appear
 * once there is something to measure them by (a second of progress); what does not fit is dropped, the bar first
 * shrinks, then the rate and time go, then the label is shortened, so the line never wraps or is cut.
 */

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

export type ProgressState = { label: string; done: number; total: number; elapsedMs: number };

// Below a second (or before the first bytes) a rate is noise: "0 B/s" and an infinite time left mislead.
const MIN_MEASURE_MS = 1_000;
const MAX_BAR = 30;
const MIN_BAR = 10;

/** `25/60 MiB`: both sides in the total's unit when they share one. */
const amounts = (done: number, total: number): string => {
  const [doneValue, doneUnit] = formatBytes(done).split(' ');
  const totalText = formatBytes(total);
  return totalText.endsWith(` ${doneUnit}`) ? `${doneValue}/${totalText}` : `${formatBytes(done)}/${totalText}`;
};

const speedOf = ({ done, total, elapsedMs }: ProgressState): string | undefined => {
  if (done <= 0 || done >= total || elapsedMs < MIN_MEASURE_MS) return undefined;
  const perSecond = done / (elapsedMs / 1000);
  return `${formatBytes(perSecond)}/s ${formatDuration(((total - done) / perSecond) * 1000)} left`;
};

const shorten = (label: string, length: number): string =>
  label.length <= length ? label : `${label.slice(0, Math.max(length - 1, 0))}…`;

/**
 * The frame for `state` in at most `width - 1` columns (the last column left free so no terminal wraps).
 *
 * @example
 * ```ts
 * progressFrame({ label: 'uploading a.tar.gz', done: 25 << 20, total: 60 << 20, elapsedMs: 2000 }, 80);
 * // 'uploading a.tar.gz [████████████░░░░░░░░░░░░░░░░░░] 42% 25/60 MiB 12 MiB/s 2s left'
 * ```
 */
export const progressFrame = (state: ProgressState, width: number): string => {
  const room = width - 1;
  const fraction = state.total > 0 ? Math.min(state.done / state.total, 1) : 1;
  const percent = `${Math.floor(fraction * 100)}%`;
  const speed = speedOf(state);
  const tails = [
    [percent, amounts(state.done, state.total), speed],
    [percent, amounts(state.done, state.total)],
    [percent],
  ].map((parts) => parts.filter(Boolean).join(' '));
  for (const tail of tails) {
    const barRoom = room - state.label.length - tail.length - 4; // spaces and brackets
    if (barRoom >= MIN_BAR) {
      const size = Math.min(barRoom, MAX_BAR);
      const filled = Math.round(fraction * size);
      return `${state.label} [${'█'.repeat(filled)}${'░'.repeat(size - filled)}] ${tail}`;
    }
  }
  const tail = tails[2] as string;
  const label = shorten(state.label, room - tail.length - MIN_BAR - 4);
  const filled = Math.round(fraction * MIN_BAR);
  return `${label} [${'█'.repeat(filled)}${'░'.repeat(MIN_BAR - filled)}] ${tail}`.slice(0, room);
};
