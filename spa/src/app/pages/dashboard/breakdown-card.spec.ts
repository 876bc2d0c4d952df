import { describe, expect, it, vi } from 'vitest';
import { TestBed } from '@angular/core/testing';
import { BreakdownCard } from './breakdown-card';
import { KpiRow } from './kpi-row';
import { Stats } from '../../core/stats';
import { parseState, type Filter } from '../../core/dash-state';
import type { QueryRequest, QueryResponse } from '../../api/api';

function fakeStats(answer: (q: QueryRequest) => QueryResponse) {
  const calls: QueryRequest[] = [];
  const stats = { query: vi.fn(async (q: QueryRequest) => (calls.push(q), answer(q))) };
  TestBed.configureTestingModule({ providers: [{ provide: Stats, useValue: stats }] });
  return calls;
}

const settle = async (f: { whenStable(): Promise<unknown>; detectChanges(): void }) => {
  for (let i = 0; i < 3; i++) {
    await f.whenStable();
    await new Promise((r) => setTimeout(r));
  }
  f.detectChanges();
};

describe('BreakdownCard', () => {
  it('queries its dimension with the dashboard filters and turns a row click into a filter', async () => {
    const calls = fakeStats(() => ({
      results: [
        { dimensions: ['Google'], metrics: [40], comparison: { dimensions: ['Google'], metrics: [20], change: [100] } },
        { dimensions: [null], metrics: [10] },
      ],
      meta: { total_rows: 2 },
      query: {},
    }));
    const f = TestBed.createComponent(BreakdownCard);
    f.componentRef.setInput('title', 'Sources');
    f.componentRef.setInput('tabs', [{ label: 'Sources', dim: 'visit:source' }]);
    f.componentRef.setInput('site', 'example.com');
    f.componentRef.setInput('state', parseState({ period: '7d', compare: 'previous_period', f: 'is|visit:country_name|Japan' }));
    const emitted: Filter[] = [];
    f.componentInstance.filter.subscribe((x) => emitted.push(x));
    await settle(f);

    expect(calls[0]).toMatchObject({
      site_id: 'example.com',
      date_range: '7d',
      dimensions: ['visit:source'],
      filters: [['is', 'visit:country_name', ['Japan']]],
      compare: 'previous_period',
    });
    const rows = (f.nativeElement as HTMLElement).querySelectorAll<HTMLButtonElement>('[data-testid=row]');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('Google');
    expect(rows[0].textContent).toContain('↑100%');
    expect(rows[1].textContent).toContain('(not set)');
    expect(rows[1].disabled).toBe(true);
    rows[0].click();
    expect(emitted).toEqual([{ op: 'is', dim: 'visit:source', values: ['Google'] }]);
  });

  it('says so when the period has no data', async () => {
    fakeStats(() => ({ results: [], meta: { total_rows: 0 }, query: {} }));
    const f = TestBed.createComponent(BreakdownCard);
    f.componentRef.setInput('title', 'Pages');
    f.componentRef.setInput('tabs', [{ label: 'Top pages', dim: 'event:page' }]);
    f.componentRef.setInput('site', 'example.com');
    f.componentRef.setInput('state', parseState({}));
    await settle(f);
    expect((f.nativeElement as HTMLElement).textContent).toContain('No data for this period');
  });

  it('shows the error the API gave', async () => {
    const calls: unknown[] = [];
    TestBed.configureTestingModule({
      providers: [{ provide: Stats, useValue: { query: async () => (calls.push(1), Promise.reject(new Error('invalid dimension visit:x'))) } }],
    });
    const f = TestBed.createComponent(BreakdownCard);
    f.componentRef.setInput('title', 'X');
    f.componentRef.setInput('tabs', [{ label: 'X', dim: 'visit:x' }]);
    f.componentRef.setInput('site', 'example.com');
    f.componentRef.setInput('state', parseState({}));
    await settle(f);
    expect((f.nativeElement as HTMLElement).textContent).toContain('invalid dimension visit:x');
  });
});

describe('KpiRow', () => {
  it('shows the six metrics with their change, bounce rate in points', async () => {
    const calls = fakeStats(() => ({
      results: [{ dimensions: [], metrics: [11775, 16018, 48615, 3.04, 47, 266], comparison: { dimensions: [], metrics: [11758, 16009, 48793, 3.05, 46, 267], change: [0, 0, 0, 0, 1.0, 0] } }],
      meta: {},
      query: {},
    }));
    const f = TestBed.createComponent(KpiRow);
    f.componentRef.setInput('site', 'example.com');
    f.componentRef.setInput('state', parseState({ compare: 'previous_period' }));
    await settle(f);
    expect(calls[0].metrics).toEqual(['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration']);
    const el = f.nativeElement as HTMLElement;
    const values = [...el.querySelectorAll('[data-testid=kpi-value]')].map((e) => e.textContent!.trim());
    expect(values).toEqual(['11,775', '16,018', '48,615', '3.04', '47%', '4m 26s']);
    const bounce = el.querySelector('[data-metric=bounce_rate] [data-testid=kpi-change]')!;
    expect(bounce.textContent).toContain('1 pt');
    expect(bounce.className).toContain('tone-bad');
  });
});
