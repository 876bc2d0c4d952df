import type { MetricKind } from './dash-state';

/** 950, 1.2k, 12k, 1.2M - compact counts as dashboards show them. */
export function formatCount(n: number | null | undefined): string {
  if (n == null || Number.isNaN(n)) return '-';
  const abs = Math.abs(n);
  const short = (v: number, unit: string) => `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))}${unit}`;
  if (abs >= 1e9) return short(n / 1e9, 'B');
  if (abs >= 1e6) return short(n / 1e6, 'M');
  if (abs >= 1e4) return short(n / 1e3, 'k');
  if (abs >= 1e3) return short(n / 1e3, 'k');
  return String(Math.round(n * 100) / 100);
}

/** Seconds as `45s`, `4m 27s`, `1h 02m`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || Number.isNaN(seconds)) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatMetric(value: unknown, kind: MetricKind): string {
  const n = typeof value === 'number' ? value : value == null ? null : Number(value);
  if (n == null || Number.isNaN(n)) return '-';
  switch (kind) {
    case 'count':
      return formatCount(n);
    case 'decimal':
      return n.toFixed(2);
    case 'percent':
      return `${Math.round(n)}%`;
    case 'duration':
      return formatDuration(n);
  }
}

/** A change against the comparison period: text and whether it is good, bad or neutral. */
export interface Change {
  text: string;
  tone: 'good' | 'bad' | 'flat';
  arrow: '↑' | '↓' | '';
}

/**
 * The API gives percent change for counts and a difference in points for rates
 * (bounce_rate, conversion_rate, percentage); null when not comparable (nothing before).
 */
export function formatChange(change: unknown, opts: { points?: boolean; lowerIsBetter?: boolean } = {}): Change | null {
  if (change == null || typeof change !== 'number' || Number.isNaN(change)) return null;
  const unit = opts.points ? ' pt' : '%';
  const rounded = Math.round(change * (opts.points ? 10 : 1)) / (opts.points ? 10 : 1);
  if (rounded === 0) return { text: `0${unit}`, tone: 'flat', arrow: '' };
  const up = rounded > 0;
  const good = opts.lowerIsBetter ? !up : up;
  return { text: `${Math.abs(rounded)}${unit}`, tone: good ? 'good' : 'bad', arrow: up ? '↑' : '↓' };
}

/** A time-bucket label as the API gives it (`2026-11-20`, `2026-11-20 13:00:00`, `2026-11`) for an axis or tooltip. */
export function formatBucket(label: string, interval: string): string {
  const d = new Date(label.length === 7 ? `${label}-01T00:00:00` : label.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return label;
  switch (interval) {
    case 'hour':
      return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
    case 'month':
      return d.toLocaleDateString(undefined, { month: 'short', year: 'numeric' });
    case 'week':
      return `Week of ${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}`;
    default:
      return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
  }
}
