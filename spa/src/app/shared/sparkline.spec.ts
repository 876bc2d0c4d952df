import { describe, expect, it } from 'vitest';
import { TestBed } from '@angular/core/testing';
import { Sparkline, sparkPath } from './sparkline';

describe('sparkline', () => {
  it('scales the highest value to the top and zero to the bottom', () => {
    expect(sparkPath([0, 10], 100, 40)).toBe('M0.0,39.0L100.0,1.0');
    expect(sparkPath([], 100, 40)).toBe('');
  });

  it('renders an SVG path for its values', async () => {
    const f = TestBed.createComponent(Sparkline);
    f.componentRef.setInput('values', [1, 3, 2]);
    f.componentRef.setInput('label', 'visitors');
    await f.whenStable();
    const svg = (f.nativeElement as HTMLElement).querySelector('svg')!;
    expect(svg.getAttribute('aria-label')).toBe('visitors');
    expect(svg.querySelector('.spark-line')!.getAttribute('d')).toMatch(/^M0\.0,/);
  });
});
