/** How the bench's report writes figures: times, ratios, sizes, verdicts and Markdown tables. */
import { percentile } from './stats.ts';

export const ms = (value: number) => {
  if (!Number.isFinite(value)) return '–';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`;
};
export const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');
/** A ratio held against a target: three decimals, so that 1.204 does not read as a met 1.20. */
export const x3 = (value: number) => (Number.isFinite(value) ? `${value.toFixed(3)}×` : '–');
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const mark = (met: boolean | undefined) => (met === undefined ? '–' : met ? '**met**' : '**missed**');
export const range = (values: number[]) => `${ms(percentile(values, 10))} – ${ms(percentile(values, 90))}`;

export const table = (header: string[], rows: Array<Array<string | number>>) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, index) => (index === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
