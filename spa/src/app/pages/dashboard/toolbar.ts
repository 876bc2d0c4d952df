import { Component, computed, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { SelectModule } from 'primeng/select';
import { ButtonModule } from 'primeng/button';
import { t } from '../../core/i18n';
import { countryName } from '../../core/format';
import { COMPARISONS, type Comparison, type DashState, OP_LABELS, PERIODS, type Period, SEGMENT, dimensionLabel } from '../../core/dash-state';

/** A saved segment as the toolbar offers it. */
export interface SegmentChoice {
  id: number;
  name: string;
}

/** Date range, comparison and the filter chips of a dashboard. */
@Component({
  selector: 'hk-toolbar',
  imports: [FormsModule, SelectModule, ButtonModule],
  template: `
    <div class="toolbar">
      <p-select
        [options]="periods()"
        optionLabel="label"
        optionValue="id"
        [ngModel]="state().period"
        (ngModelChange)="pickPeriod($event)"
        [ariaLabel]="t('toolbar.range')"
        inputId="period"
        data-testid="period"
      />
      @if (customOpen() || state().period === 'custom') {
        <span class="custom-range">
          <input type="date" [attr.aria-label]="t('toolbar.from')" [(ngModel)]="from" [max]="to || today" data-testid="from" />
          <span class="muted">–</span>
          <input type="date" [attr.aria-label]="t('toolbar.to')" [(ngModel)]="to" [min]="from" [max]="today" data-testid="to" />
          <p-button [label]="t('toolbar.apply')" size="small" [disabled]="!from || !to || from > to" (onClick)="applyCustom()" />
        </span>
      }
      <p-select
        [options]="comparisons()"
        optionLabel="label"
        optionValue="id"
        [ngModel]="state().compare"
        (ngModelChange)="compareChange.emit($event)"
        [ariaLabel]="t('toolbar.comparison')"
        inputId="compare"
        data-testid="compare"
      />
      @if (segments().length) {
        <p-select
          [options]="segments()"
          optionLabel="name"
          optionValue="id"
          [ngModel]="activeSegment()"
          (ngModelChange)="pickSegment.emit($event ?? null)"
          [placeholder]="t('segment.pick')"
          [showClear]="true"
          [ariaLabel]="t('segment.label')"
          inputId="segment"
          data-testid="segment"
        />
      }
      @if (canSave() && state().filters.length && activeSegment() === null) {
        <p-button [label]="t('segment.save')" icon="pi pi-bookmark" size="small" [text]="true" (onClick)="saveSegment.emit()" data-testid="save-segment" />
      }
      <ng-content />
      <button type="button" class="icon-button" (click)="help.emit()" [attr.aria-label]="t('toolbar.shortcuts')" [title]="t('toolbar.shortcuts') + ' (?)'" data-testid="shortcuts-button"><i class="pi pi-question-circle" aria-hidden="true"></i></button>
    </div>
    @if (state().filters.length) {
      <div class="chips" role="group" [attr.aria-label]="t('toolbar.filters')">
        @for (f of chips(); track f.dim) {
          <span class="chip" data-testid="filter-chip">
            <span class="muted">{{ f.label }} {{ f.op }}</span> <strong>{{ f.values }}</strong>
            <button type="button" (click)="removeFilter.emit(f.dim)" [attr.aria-label]="t('toolbar.removeFilter', { name: f.label })">✕</button>
          </span>
        }
        @if (state().filters.length > 1) {
          <button type="button" class="link" (click)="clearFilters.emit()">{{ t('toolbar.clearAll') }}</button>
        }
      </div>
    }
  `,
})
export class Toolbar {
  protected readonly t = t;
  readonly periods = computed(() => PERIODS.map((p) => ({ id: p.id, label: t(`period.${p.id}`) })));
  readonly comparisons = computed(() => COMPARISONS.map((c) => ({ id: c.id, label: t(`compare.${c.id}`) })));
  readonly help = output<void>();
  readonly today = new Date().toISOString().slice(0, 10);
  readonly state = input.required<DashState>();
  readonly periodChange = output<{ period: Period; from?: string; to?: string }>();
  readonly compareChange = output<Comparison>();
  readonly removeFilter = output<string>();
  readonly clearFilters = output<void>();
  readonly customOpen = signal(false);
  /** Saved segments the caller sees. */
  readonly segments = input<SegmentChoice[]>([]);
  /** Whether the current filters may be saved as a segment (signed in, not a share view). */
  readonly canSave = input(false);
  readonly pickSegment = output<number | null>();
  readonly saveSegment = output<void>();
  readonly activeSegment = computed(() => {
    const f = this.state().filters.find((x) => x.dim === SEGMENT);
    return f ? Number(f.values[0]) : null;
  });
  from = '';
  to = '';

  readonly chips = computed(() =>
    this.state().filters.map((f) => ({ dim: f.dim, label: dimensionLabel(f.dim), op: OP_LABELS[f.op], values: f.values.map((v) => this.valueLabel(f.dim, v)).join(' or ') })),
  );

  private valueLabel(dim: string, v: string): string {
    if (dim === 'visit:country') return countryName(v);
    if (dim === SEGMENT) return this.segments().find((s) => String(s.id) === v)?.name ?? `#${v}`;
    return v;
  }

  pickPeriod(p: Period): void {
    if (p === 'custom') {
      this.from = this.state().from ?? '';
      this.to = this.state().to ?? '';
      this.customOpen.set(true);
      return;
    }
    this.customOpen.set(false);
    this.periodChange.emit({ period: p });
  }

  applyCustom(): void {
    this.customOpen.set(false);
    this.periodChange.emit({ period: 'custom', from: this.from, to: this.to });
  }
}
