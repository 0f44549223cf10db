/**
 * A library's versions over time as a small SVG: one mark per upload on a time axis, registered versions as filled
 * dots labelled with the version (larger when the upload created or updated the library), turned-away uploads as
 * red crosses, pending ones as rings. The SVG has a text label listing the same, for screen readers.
 */
import type { UploadView } from '../registry.ts';
import { formatTime, s } from './dom.ts';

/** Drawn at the width it is shown at (text stays legible on a phone), within these bounds. */
const MIN_WIDTH = 300;
const MAX_WIDTH = 720;
const HEIGHT = 96;
const PAD = 36;
const AXIS_Y = 62;

const markOf = (upload: UploadView, x: number): SVGElement => {
  const title = s(
    'title',
    {},
    `${upload.version ?? '?'} ${upload.state}${upload.change ? ` (${upload.change})` : ''} — ${formatTime(upload.at)}`,
  );
  if (upload.state === 'REGISTERED') {
    const big = upload.change !== 'unchanged';
    return s('circle', { cx: x, cy: AXIS_Y, r: big ? 7 : 4, class: big ? 'mark ok' : 'mark same' }, title);
  }
  if (upload.state === 'PENDING') return s('circle', { cx: x, cy: AXIS_Y, r: 5, class: 'mark pending' }, title);
  const d = 5;
  return s(
    'path',
    {
      d: `M${x - d} ${AXIS_Y - d}L${x + d} ${AXIS_Y + d}M${x + d} ${AXIS_Y - d}L${x - d} ${AXIS_Y + d}`,
      class: 'mark bad',
    },
    title,
  );
};

/** The timeline of `uploads` (any order). */
export const timeline = (uploads: UploadView[], availableWidth: number): SVGElement => {
  const WIDTH = Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, availableWidth)));
  const sorted = [...uploads].sort((a, b) => a.at.localeCompare(b.at));
  const times = sorted.map((upload) => new Date(upload.at).getTime());
  const first = Math.min(...times);
  const last = Math.max(...times);
  const span = last - first;
  // Evenly spaced when the times are all equal; by time otherwise, never closer than the labels need.
  const xs = sorted.map((_, index) =>
    span === 0
      ? sorted.length === 1
        ? WIDTH / 2
        : PAD + (index * (WIDTH - 2 * PAD)) / (sorted.length - 1)
      : PAD + (((times[index] as number) - first) / span) * (WIDTH - 2 * PAD),
  );
  // One label per version, at its first mark; registered versions bold, turned-away ones muted.
  const labelled = new Set<string>();
  const labels: SVGElement[] = [];
  let lastLabelX = Number.NEGATIVE_INFINITY;
  let row = 0;
  sorted.forEach((upload, index) => {
    const x = xs[index] as number;
    if (!upload.version || labelled.has(upload.version)) return;
    labelled.add(upload.version);
    // Alternate rows when labels would overlap.
    row = x - lastLabelX < 64 ? 1 - row : 0;
    lastLabelX = x;
    const registered = upload.state === 'REGISTERED';
    labels.push(
      s(
        'text',
        { x, y: row ? 24 : 42, 'text-anchor': 'middle', class: registered ? 'version' : 'version other' },
        upload.version,
      ),
    );
  });
  const summary = sorted
    .map((upload) => `${upload.version ?? '?'} ${upload.state.toLowerCase()} ${formatTime(upload.at)}`)
    .join('; ');
  return s(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      width: WIDTH,
      height: HEIGHT,
      class: 'timeline',
      role: 'img',
      'aria-label': `Versions over time: ${summary}`,
    },
    s('line', { x1: PAD / 2, y1: AXIS_Y, x2: WIDTH - PAD / 2, y2: AXIS_Y, class: 'axis' }),
    s('text', { x: PAD / 2, y: HEIGHT - 6, class: 'tick' }, formatTime(sorted[0]?.at)),
    sorted.length > 1
      ? s(
          'text',
          { x: WIDTH - PAD / 2, y: HEIGHT - 6, 'text-anchor': 'end', class: 'tick' },
          formatTime(sorted.at(-1)?.at),
        )
      : undefined,
    labels,
    sorted.map((upload, index) => markOf(upload, xs[index] as number)),
  );
};
