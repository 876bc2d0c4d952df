import { describe, expect, it } from 'vitest';
import { bucketToSeconds, chartSeries } from './chart-data';

describe('time chart series', () => {
  it('reads bucket labels of every grain as the wall clock of the site', () => {
    expect(bucketToSeconds('2026-11-20')).toBe(Date.UTC(2026, 10, 20) / 1000);
    expect(bucketToSeconds('2026-11-20 13:00:00')).toBe(Date.UTC(2026, 10, 20, 13) / 1000);
    expect(bucketToSeconds('2026-11')).toBe(Date.UTC(2026, 10, 1) / 1000);
  });

  it('fills empty buckets with zero and aligns the comparison by bucket', () => {
    const labels = ['2026-11-20', '2026-11-21', '2026-11-22'];
    const rows = [
      { dimensions: ['2026-11-22'], metrics: [7], comparison: { dimensions: ['2026-11-19'], metrics: [5], change: [40] } },
      { dimensions: ['2026-11-20'], metrics: [3], comparison: { dimensions: ['2026-11-17'], metrics: [6], change: [-50] } },
    ];
    const s = chartSeries(labels, rows);
    expect(s.current).toEqual([3, 0, 7]);
    expect(s.previous).toEqual([6, 0, 5]);
    expect(s.x).toHaveLength(3);
  });

  it('has no comparison series without a comparison', () => {
    expect(chartSeries(['2026-11-20'], [{ dimensions: ['2026-11-20'], metrics: [1] }]).previous).toBeNull();
  });
});
