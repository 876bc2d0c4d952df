import { Component, computed, input } from '@angular/core';
import type { Schemas } from '../../api/api';
import { formatCount, formatRate } from '../../core/format';
import { t } from '../../core/i18n';

/** A funnel as bars: each step's visitors against the first step, with the drop-off between steps. */
@Component({
  selector: 'hk-funnel-chart',
  template: `
    <ol class="funnel" data-testid="funnel">
      @for (s of steps(); track $index; let i = $index) {
        <li>
          <div class="funnel-label">
            <span class="step-no">{{ i + 1 }}</span> <span class="spacer">{{ s.label }}</span>
            <span class="funnel-value" [attr.data-value]="s.raw">{{ t('funnels.visitors', { n: s.visitors, rate: s.rate }) }}</span>
          </div>
          <div class="funnel-bar-track"><div class="funnel-bar" [style.width.%]="s.width"></div></div>
          @if (i > 0) {
            <div class="funnel-drop muted">{{ t('funnels.dropped', { n: s.dropoff, rate: s.stepRate }) }}</div>
          }
        </li>
      }
    </ol>
    @if (steps()[0]?.raw === 0) {
      <p class="muted empty">{{ t('funnels.none') }}</p>
    }
  `,
})
export class FunnelChart {
  protected readonly t = t;
  readonly report = input.required<Schemas['FunnelReport']>();
  readonly steps = computed(() => {
    const steps = this.report().steps;
    const first = Math.max(1, steps[0]?.visitors ?? 0);
    return steps.map((s) => ({
      label: s.label,
      raw: s.visitors,
      visitors: formatCount(s.visitors),
      width: Math.max(0.5, (s.visitors / first) * 100),
      rate: formatRate(s.conversion_rate),
      stepRate: formatRate(s.conversion_rate_step),
      dropoff: formatCount(s.dropoff),
    }));
  });
}
