import { afterEach, describe, expect, it } from 'vitest';
import { locale } from './i18n';
import { countryName, formatBucket, formatChange, formatCount, formatDuration, formatMetric } from './format';

describe('formatCount', () => {
  afterEach(() => locale.set('en'));

  it('groups exact counts and shortens millions', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(148_615)).toBe('148,615');
    expect(formatCount(2_500_000)).toBe('2.5M');
    expect(formatCount(null)).toBe('-');
  });

  it('follows the language', () => {
    locale.set('de');
    expect(formatCount(1234)).toBe('1.234');
    expect(formatMetric(3.0456, 'decimal')).toBe('3,05');
    locale.set('fr');
    expect(formatCount(1234)).toMatch(/^1\s234$/);
  });
});

describe('formatDuration', () => {
  it('shows seconds, minutes and hours', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45.4)).toBe('45s');
    expect(formatDuration(267)).toBe('4m 27s');
    expect(formatDuration(3720)).toBe('1h 02m');
  });
});

describe('formatMetric', () => {
  it('formats each kind of metric', () => {
    expect(formatMetric(3.0456, 'decimal')).toBe('3.05');
    expect(formatMetric(46.6, 'percent')).toBe('47%');
    expect(formatMetric(12000, 'count')).toBe('12,000');
    expect(formatMetric(null, 'count')).toBe('-');
  });
});

describe('formatChange', () => {
  it('marks growth good and decline bad', () => {
    expect(formatChange(12)).toEqual({ text: '12%', tone: 'good', arrow: '↑' });
    expect(formatChange(-3.4)).toEqual({ text: '3%', tone: 'bad', arrow: '↓' });
    expect(formatChange(0)).toEqual({ text: '0%', tone: 'flat', arrow: '' });
  });

  it('flips the colour when lower is better and shows rates in points', () => {
    expect(formatChange(2.0, { points: true, lowerIsBetter: true })).toEqual({ text: '2 pt', tone: 'bad', arrow: '↑' });
    expect(formatChange(-1.26, { points: true, lowerIsBetter: true })).toEqual({ text: '1.3 pt', tone: 'good', arrow: '↓' });
  });

  it('says nothing when the API has no comparable value', () => {
    expect(formatChange(null)).toBeNull();
    expect(formatChange(undefined)).toBeNull();
  });
});

describe('countryName', () => {
  it('gives short names in the current language', () => {
    expect(countryName('GB')).toBe('UK');
    expect(countryName('TW')).toBe('Taiwan');
    locale.set('de');
    expect(countryName('DE')).toBe('Deutschland');
    locale.set('en');
  });
});

describe('formatBucket', () => {
  it('labels months and keeps unknown labels as they are', () => {
    expect(formatBucket('2026-11', 'month')).toMatch(/2026/);
    expect(formatBucket('not a date', 'day')).toBe('not a date');
  });
});
