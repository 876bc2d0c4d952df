import type { MetricKind } from './dash-state';
import { locale, t } from './i18n';

const nf = (opts: Intl.NumberFormatOptions) => new Intl.NumberFormat(locale(), opts);

/** Exact counts with the language's grouping (`1,234` / `1.234`); millions and more compact (`2.5M`, `2,5 Mio.`). */
export function formatCount(n: number | null | undefined): string {
  if (n == null || Number.isNaN(n)) return '-';
  if (Math.abs(n) >= 1e6) return nf({ notation: 'compact', maximumFractionDigits: 1 }).format(n);
  return nf({ maximumFractionDigits: 2 }).format(n);
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
      return nf({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
    case 'percent':
      return nf({ style: 'percent', maximumFractionDigits: 0 }).format(n / 100);
    case 'duration':
      return formatDuration(n);
  }
}

/** A conversion rate with one decimal (`11.4%`, `11,4 %`). */
export function formatRate(n: number | null | undefined): string {
  return n == null ? '-' : nf({ style: 'percent', maximumFractionDigits: 1 }).format(n / 100);
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
  return { text: `${nf({ maximumFractionDigits: 1 }).format(Math.abs(rounded))}${unit}`, tone: good ? 'good' : 'bad', arrow: up ? '↑' : '↓' };
}

/** A time-bucket label as the API gives it (`2026-11-20`, `2026-11-20 13:00:00`, `2026-11`) for an axis or tooltip. */
export function formatBucket(label: string, interval: string): string {
  const d = new Date(label.length === 7 ? `${label}-01T00:00:00` : label.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return label;
  const l = locale();
  switch (interval) {
    case 'hour':
      return d.toLocaleString(l, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    case 'month':
      return d.toLocaleDateString(l, { month: 'long', year: 'numeric' });
    case 'week':
      return t('chart.weekOf', { date: d.toLocaleDateString(l, { day: 'numeric', month: 'short' }) });
    default:
      return d.toLocaleDateString(l, { weekday: 'short', day: 'numeric', month: 'short' });
  }
}

/** A short country name in the current language (`United Kingdom`, `Vereinigtes Königreich`) from an ISO code. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames([locale()], { type: 'region', style: 'short' }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** A date from the API (ISO 8601) in the current language: `Nov 30, 2026`, `30.11.2026`. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(locale(), { dateStyle: 'medium' });
}

/** A date and time from the API in the current language: `11/30/26, 5:04 AM`, `30.11.26, 05:04`. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short' });
}
