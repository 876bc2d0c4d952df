import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STATE,
  allowedIntervals,
  buildQuery,
  dateRangeParam,
  decodeFilter,
  defaultInterval,
  encodeFilter,
  interval,
  parseState,
  stateToParams,
  withFilter,
  withoutFilter,
} from './dash-state';

describe('URL state', () => {
  it('defaults to the last 30 days, no comparison, no filters', () => {
    expect(parseState({})).toEqual(DEFAULT_STATE);
  });

  it('round-trips every field through query parameters', () => {
    const s = parseState({
      period: 'custom',
      from: '2026-01-01',
      to: '2026-01-31',
      compare: 'year_over_year',
      f: ['is|visit:source|Google', 'is_not|event:page|/a|/b'],
      interval: 'week',
      metric: 'bounce_rate',
    });
    expect(s).toEqual({
      period: 'custom',
      from: '2026-01-01',
      to: '2026-01-31',
      compare: 'year_over_year',
      filters: [
        { op: 'is', dim: 'visit:source', values: ['Google'] },
        { op: 'is_not', dim: 'event:page', values: ['/a', '/b'] },
      ],
      interval: 'week',
      metric: 'bounce_rate',
    });
    expect(parseState(stateToParams(s))).toEqual(s);
  });

  it('leaves defaults out of the URL', () => {
    const p = stateToParams(DEFAULT_STATE);
    expect(Object.values(p).every((v) => v === null)).toBe(true);
  });

  it('falls back on nonsense instead of failing', () => {
    const s = parseState({ period: 'fortnight', compare: 'yesterday', f: ['drop|visit:source|x', 'is|; DROP TABLE|x', 'is|visit:os'], metric: 'money' });
    expect(s).toEqual(DEFAULT_STATE);
  });

  it('refuses a custom range without both dates or with from after to', () => {
    expect(parseState({ period: 'custom', from: '2026-02-01' }).period).toBe('30d');
    expect(parseState({ period: 'custom', from: '2026-02-01', to: '2026-01-01' }).period).toBe('30d');
    expect(parseState({ period: 'custom', from: '2026-2-1', to: '2026-03-01' }).period).toBe('30d');
  });

  it('keeps a single filter given as a plain string', () => {
    expect(parseState({ f: 'contains|event:page|/docs' }).filters).toEqual([{ op: 'contains', dim: 'event:page', values: ['/docs'] }]);
  });

  it('encodes filters with property dimensions', () => {
    const f = { op: 'is' as const, dim: 'event:props:plan', values: ['pro'] };
    expect(decodeFilter(encodeFilter(f))).toEqual(f);
  });

  it('keeps a saved segment in the URL and sends its id as a number', () => {
    const s = parseState({ f: ['is|segment|7', 'is_not|segment|7', 'is|segment|x'] });
    expect(s.filters).toEqual([{ op: 'is', dim: 'segment', values: ['7'] }]);
    expect(buildQuery('a.test', s, { metrics: ['visitors'] }).filters).toEqual([['is', 'segment', [7]]]);
  });
});

describe('date range parameter', () => {
  it('is the period, or the custom days joined by a comma (GET reports, annotations)', () => {
    expect(dateRangeParam(DEFAULT_STATE)).toBe('30d');
    expect(dateRangeParam({ ...DEFAULT_STATE, period: 'custom', from: '2026-11-01', to: '2026-11-07' })).toBe('2026-11-01,2026-11-07');
  });
});

describe('filters', () => {
  it('clicking a row on a filtered dimension replaces its filter, others stay', () => {
    let s = withFilter(DEFAULT_STATE, { op: 'is', dim: 'visit:source', values: ['Google'] });
    s = withFilter(s, { op: 'is', dim: 'visit:country_name', values: ['Japan'] });
    s = withFilter(s, { op: 'is', dim: 'visit:source', values: ['Bing'] });
    expect(s.filters).toEqual([
      { op: 'is', dim: 'visit:country_name', values: ['Japan'] },
      { op: 'is', dim: 'visit:source', values: ['Bing'] },
    ]);
    expect(withoutFilter(s, 'visit:country_name').filters).toEqual([{ op: 'is', dim: 'visit:source', values: ['Bing'] }]);
  });
});

describe('buildQuery', () => {
  it('makes a Stats API v2 query from the state and a card', () => {
    const s = parseState({ period: '7d', compare: 'previous_period', f: 'is|visit:source|Google' });
    expect(
      buildQuery('example.com', s, { metrics: ['visitors'], dimensions: ['event:page'], orderBy: [['visitors', 'desc']], limit: 9, totalRows: true }),
    ).toEqual({
      site_id: 'example.com',
      date_range: '7d',
      metrics: ['visitors'],
      dimensions: ['event:page'],
      filters: [['is', 'visit:source', ['Google']]],
      order_by: [['visitors', 'desc']],
      pagination: { limit: 9 },
      include: { time_labels: undefined, total_rows: true },
      compare: 'previous_period',
    });
  });

  it('sends a custom range as two dates and adds card filters to the state filters', () => {
    const s = parseState({ period: 'custom', from: '2026-03-01', to: '2026-03-31', f: 'is|visit:os|Linux' });
    const q = buildQuery('a.test', s, { metrics: ['events'], filters: [{ op: 'is_not', dim: 'event:name', values: ['pageview'] }] });
    expect(q.date_range).toEqual(['2026-03-01', '2026-03-31']);
    expect(q.filters).toEqual([
      ['is', 'visit:os', ['Linux']],
      ['is_not', 'event:name', ['pageview']],
    ]);
    expect(q.compare).toBeUndefined();
  });

  it('can leave the comparison out', () => {
    const s = parseState({ compare: 'previous_period' });
    expect(buildQuery('a.test', s, { metrics: ['visitors'], noCompare: true }).compare).toBeUndefined();
  });
});

describe('intervals', () => {
  it('picks a sensible default bucket per period', () => {
    expect(defaultInterval({ period: 'day' })).toBe('hour');
    expect(defaultInterval({ period: '30d' })).toBe('day');
    expect(defaultInterval({ period: '12mo' })).toBe('week');
    expect(defaultInterval({ period: 'all' })).toBe('month');
    expect(defaultInterval({ period: 'custom', from: '2026-01-01', to: '2026-01-02' })).toBe('hour');
    expect(defaultInterval({ period: 'custom', from: '2025-01-01', to: '2026-12-31' })).toBe('month');
  });

  it('offers only intervals that fit the period and ignores a URL interval that does not', () => {
    expect(allowedIntervals({ period: 'day' })).toEqual(['hour']);
    expect(allowedIntervals({ period: '30d' })).toEqual(['day', 'week']);
    expect(allowedIntervals({ period: '12mo' })).toEqual(['day', 'week', 'month']);
    expect(interval(parseState({ period: '12mo', interval: 'hour' }))).toBe('week');
    expect(interval(parseState({ period: '7d', interval: 'hour' }))).toBe('hour');
  });
});
