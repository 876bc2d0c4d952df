import { Component, computed, input } from '@angular/core';

/** Points of a sparkline path in a w x h box (y grows downwards; a flat zero series sits on the bottom). */
export function sparkPath(values: number[], w: number, h: number): string {
  if (values.length === 0) return '';
  const max = Math.max(...values, 1);
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  return values.map((v, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join('');
}

/** A tiny line chart without axes, as plain SVG (no chart library in the overview). */
@Component({
  selector: 'hk-sparkline',
  template: `
    <svg [attr.viewBox]="'0 0 ' + w + ' ' + h" [attr.width]="w" [attr.height]="h" preserveAspectRatio="none" role="img" [attr.aria-label]="label()">
      <path [attr.d]="area()" class="spark-area" />
      <path [attr.d]="line()" class="spark-line" fill="none" />
    </svg>
  `,
})
export class Sparkline {
  readonly values = input.required<number[]>();
  readonly label = input('');
  readonly w = 160;
  readonly h = 40;
  readonly line = computed(() => sparkPath(this.values(), this.w, this.h));
  readonly area = computed(() => (this.line() ? `${this.line()}L${this.w},${this.h}L0,${this.h}Z` : ''));
}
