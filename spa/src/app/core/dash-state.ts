import type { Params } from '@angular/router';
import type { QueryRequest } from '../api/api';

/** The date ranges offered; each maps to a Stats API `date_range`. */
export const PERIODS = [
  { id: 'day', label: 'Today' },
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'month', label: 'This month' },
  { id: '6mo', label: 'Last 6 months' },
  { id: '12mo', label: 'Last 12 months' },
  { id: 'all', label: 'All time' },
  { id: 'custom', label: 'Custom range' },
] as const;
export type Period = (typeof PERIODS)[number]['id'];

export const COMPARISONS = [
  { id: 'off', label: 'No comparison' },
  { id: 'previous_period', label: 'Previous period' },
  { id: 'year_over_year', label: 'Year over year' },
] as const;
export type Comparison = (typeof COMPARISONS)[number]['id'];

export const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];

export const FILTER_OPS = ['is', 'is_not', 'contains', 'contains_not'] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** One filter: `[op, dimension, values]` in the Stats API. Values are OR-ed. */
export interface Filter {
  op: FilterOp;
  dim: string;
  values: string[];
}

/** Everything a dashboard view depends on; it lives in the URL's query string. */
export interface DashState {
  period: Period;
  /** Custom range, inclusive, YYYY-MM-DD (site time zone). */
  from?: string;
  to?: string;
  compare: Comparison;
  filters: Filter[];
  /** Time chart bucket; default depends on the period. */
  interval?: Interval;
  /** The metric the time chart shows. */
  metric: string;
}

export const DEFAULT_STATE: DashState = { period: '30d', compare: 'off', filters: [], metric: 'visitors' };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isPeriod = (v: unknown): v is Period => PERIODS.some((p) => p.id === v);
const isComparison = (v: unknown): v is Comparison => COMPARISONS.some((c) => c.id === v);
const isInterval = (v: unknown): v is Interval => INTERVALS.includes(v as Interval);

/** `op|dimension|value|value...` - the URL form of a filter (dimensions contain `:`, not `|`). */
export function encodeFilter(f: Filter): string {
  return [f.op, f.dim, ...f.values].join('|');
}

export function decodeFilter(s: string): Filter | null {
  const [op, dim, ...values] = s.split('|');
  // A saved segment: `is|segment|<id>`.
  if (dim === SEGMENT) return op === 'is' && values.length > 0 && values.every((v) => /^\d+$/.test(v)) ? { op, dim, values } : null;
  if (!FILTER_OPS.includes(op as FilterOp) || !/^(event|visit):[a-z_]+(:.+)?$/.test(dim ?? '') || values.length === 0) {
    return null;
  }
  return { op: op as FilterOp, dim, values };
}

/** Reads a dashboard state from query parameters; anything unknown falls back to the default. */
export function parseState(q: Params): DashState {
  const list = (v: unknown): string[] => (v == null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
  let period: Period = isPeriod(q['period']) ? q['period'] : DEFAULT_STATE.period;
  const from = DATE.test(q['from'] ?? '') ? (q['from'] as string) : undefined;
  const to = DATE.test(q['to'] ?? '') ? (q['to'] as string) : undefined;
  if (period === 'custom' && !(from && to && from <= to)) period = DEFAULT_STATE.period;
  const state: DashState = {
    period,
    compare: isComparison(q['compare']) ? q['compare'] : 'off',
    filters: list(q['f'])
      .map(decodeFilter)
      .filter((f): f is Filter => f !== null),
    metric: KPI_METRICS.some((m) => m.id === q['metric']) ? (q['metric'] as string) : 'visitors',
  };
  if (period === 'custom') Object.assign(state, { from, to });
  if (isInterval(q['interval'])) state.interval = q['interval'];
  return state;
}

/** The query parameters of a state; defaults are left out so links stay short. */
export function stateToParams(s: DashState): Params {
  return {
    period: s.period === DEFAULT_STATE.period ? null : s.period,
    from: s.period === 'custom' ? s.from : null,
    to: s.period === 'custom' ? s.to : null,
    compare: s.compare === 'off' ? null : s.compare,
    f: s.filters.length ? s.filters.map(encodeFilter) : null,
    interval: s.interval ?? null,
    metric: s.metric === 'visitors' ? null : s.metric,
  };
}

/** The `date_range` query parameter of a state (`30d`, or `from,to`) for the GET reports. */
export function dateRangeParam(s: DashState): string {
  const r = dateRange(s);
  return Array.isArray(r) ? r.join(',') : r;
}

/** The Stats API `date_range` of a state. */
export function dateRange(s: DashState): string | [string, string] {
  return s.period === 'custom' && s.from && s.to ? [s.from, s.to] : s.period;
}

/** Days in a custom range (inclusive). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) + 1;
}

/** The time chart bucket used when the URL does not say: fine for short periods, coarse for long ones. */
export function defaultInterval(s: Pick<DashState, 'period' | 'from' | 'to'>): Interval {
  switch (s.period) {
    case 'day':
    case '24h':
      return 'hour';
    case '6mo':
    case '12mo':
      return 'week';
    case 'all':
      return 'month';
    case 'custom': {
      const days = s.from && s.to ? daysBetween(s.from, s.to) : 30;
      return days <= 2 ? 'hour' : days <= 92 ? 'day' : days <= 400 ? 'week' : 'month';
    }
    default:
      return 'day';
  }
}

/** The intervals that make sense for a period (an hourly chart of a year is 8,760 points). */
export function allowedIntervals(s: Pick<DashState, 'period' | 'from' | 'to'>): Interval[] {
  const days =
    s.period === 'day' || s.period === '24h' ? 1
    : s.period === '7d' ? 7
    : s.period === '30d' || s.period === 'month' ? 31
    : s.period === '6mo' ? 183
    : s.period === '12mo' ? 366
    : s.period === 'custom' && s.from && s.to ? daysBetween(s.from, s.to)
    : 10_000;
  return INTERVALS.filter((i) => (i === 'hour' ? days <= 7 : i === 'day' ? days > 1 && days <= 400 : i === 'week' ? days > 13 : days > 59));
}

export function interval(s: DashState): Interval {
  const allowed = allowedIntervals(s);
  return s.interval && allowed.includes(s.interval) ? s.interval : defaultInterval(s);
}

/** The dimension of a saved segment filter (`["is", "segment", [id]]`). */
export const SEGMENT = 'segment';

/** The Stats API filters of a state plus any extra ones; segment ids are numbers. */
export function apiFilters(filters: Filter[]): unknown[] {
  return filters.map((f) => [f.op, f.dim, f.dim === SEGMENT ? f.values.map(Number) : f.values]);
}

export interface QueryParts {
  metrics: string[];
  dimensions?: string[];
  filters?: Filter[];
  orderBy?: [string, 'asc' | 'desc'][];
  limit?: number;
  timeLabels?: boolean;
  totalRows?: boolean;
  /** Leave out the comparison even when the state asks for one. */
  noCompare?: boolean;
}

/** A Stats API v2 query for a site, from the dashboard state and what a card needs. */
export function buildQuery(siteId: string, s: DashState, parts: QueryParts): QueryRequest {
  const q: QueryRequest = { site_id: siteId, date_range: dateRange(s), metrics: parts.metrics };
  if (parts.dimensions?.length) q.dimensions = parts.dimensions;
  const filters = [...s.filters, ...(parts.filters ?? [])];
  if (filters.length) q.filters = apiFilters(filters);
  if (parts.orderBy) q.order_by = parts.orderBy;
  if (parts.limit) q.pagination = { limit: parts.limit };
  if (parts.timeLabels || parts.totalRows) q.include = { time_labels: parts.timeLabels, total_rows: parts.totalRows };
  if (s.compare !== 'off' && !parts.noCompare) q.compare = s.compare;
  return q;
}

/** Adds a filter, replacing one on the same dimension (clicking another row changes the filter). */
export function withFilter(s: DashState, f: Filter): DashState {
  return { ...s, filters: [...s.filters.filter((x) => x.dim !== f.dim), f] };
}

export function withoutFilter(s: DashState, dim: string): DashState {
  return { ...s, filters: s.filters.filter((x) => x.dim !== dim) };
}

/** The KPI row, in order; `lowerIsBetter` flips the colour of a change. */
export const KPI_METRICS = [
  { id: 'visitors', label: 'Unique visitors', kind: 'count' },
  { id: 'visits', label: 'Total visits', kind: 'count' },
  { id: 'pageviews', label: 'Total pageviews', kind: 'count' },
  { id: 'views_per_visit', label: 'Views per visit', kind: 'decimal' },
  { id: 'bounce_rate', label: 'Bounce rate', kind: 'percent', lowerIsBetter: true },
  { id: 'visit_duration', label: 'Visit duration', kind: 'duration' },
] as const;
export type MetricKind = 'count' | 'decimal' | 'percent' | 'duration';

/** Human names of dimensions, for filter chips. */
export const DIMENSION_LABELS: Record<string, string> = {
  'event:page': 'Page',
  'event:name': 'Event',
  'event:goal': 'Goal',
  'event:hostname': 'Hostname',
  'visit:entry_page': 'Entry page',
  'visit:exit_page': 'Exit page',
  'visit:source': 'Source',
  'visit:referrer': 'Referrer',
  'visit:channel': 'Channel',
  'visit:utm_source': 'UTM source',
  'visit:utm_medium': 'UTM medium',
  'visit:utm_campaign': 'UTM campaign',
  'visit:utm_content': 'UTM content',
  'visit:utm_term': 'UTM term',
  'visit:country': 'Country',
  'visit:country_name': 'Country',
  'visit:region_name': 'Region',
  'visit:city_name': 'City',
  'visit:browser': 'Browser',
  'visit:os': 'Operating system',
  'visit:device': 'Device',
  'visit:screen': 'Screen',
  'visit:language': 'Language',
  segment: 'Segment',
};

export function dimensionLabel(dim: string): string {
  if (dim.startsWith('event:props:')) return `Property ${dim.slice('event:props:'.length)}`;
  return DIMENSION_LABELS[dim] ?? dim;
}

export const OP_LABELS: Record<FilterOp, string> = { is: 'is', is_not: 'is not', contains: 'contains', contains_not: 'does not contain' };
