/** Order statistics for the bench: medians and percentiles, never single times. */

export type Summary = {
  n: number;
  median: number;
  p10: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
  /** (p90 − p10) / median: how spread the series is, for the noise report. */
  spread: number;
};

/** Nearest-rank percentile of `values` (`p` from 0 to 100); `NaN` for an empty list. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
};

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

export const summarize = (values: readonly number[]): Summary => {
  const med = median(values);
  const p10 = percentile(values, 10);
  const p90 = percentile(values, 90);
  return {
    n: values.length,
    median: med,
    p10,
    p90,
    p99: percentile(values, 99),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    mean: values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN,
    spread: med > 0 ? (p90 - p10) / med : Number.NaN,
  };
};

/** Median of the per-pair ratios a[i]/b[i] of two series measured side by side (interleaved). */
export const pairedRatio = (a: readonly number[], b: readonly number[]): number =>
  median(a.slice(0, Math.min(a.length, b.length)).map((value, index) => value / (b[index] as number)));

/** Rounds for the JSON file: figures keep 0.1 ms (or 3 significant digits for small ratios). */
export const round = (value: number, digits = 1): number =>
  Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value;

export const roundSummary = (summary: Summary, digits = 1): Summary =>
  Object.fromEntries(
    Object.entries(summary).map(([key, value]) => [
      key,
      key === 'n' ? value : round(value, key === 'spread' ? 2 : digits),
    ]),
  ) as Summary;
