import { comparisonAt, metricAt } from '../../core/stats';

/** Labels of the API's time buckets in the site's zone, read as UTC so uPlot shows the site's wall clock. */
export function bucketToSeconds(label: string): number {
  const iso = label.length === 7 ? `${label}-01T00:00:00Z` : label.length === 10 ? `${label}T00:00:00Z` : `${label.replace(' ', 'T')}Z`;
  return Date.parse(iso) / 1000;
}

/** Series for the chart: every bucket of the period (zero when empty) and the comparison aligned by position. */
export function chartSeries(labels: string[], rows: { dimensions: unknown[]; metrics: unknown[]; comparison?: { metrics: unknown[] } }[]) {
  const byLabel = new Map(rows.map((r) => [String(r.dimensions[0]), r]));
  const current = labels.map((l) => metricAt(byLabel.get(l) as never, 0) ?? 0);
  const hasCompare = rows.some((r) => r.comparison);
  const previous = hasCompare ? labels.map((l) => comparisonAt(byLabel.get(l) as never, 0) ?? 0) : null;
  return { x: labels.map(bucketToSeconds), current, previous };
}
