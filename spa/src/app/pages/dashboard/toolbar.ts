import { Component, computed, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { SelectModule } from 'primeng/select';
import { ButtonModule } from 'primeng/button';
import { COMPARISONS, type Comparison, type DashState, OP_LABELS, PERIODS, type Period, dimensionLabel } from '../../core/dash-state';

/** Date range, comparison and the filter chips of a dashboard. */
@Component({
  selector: 'hk-toolbar',
  imports: [FormsModule, SelectModule, ButtonModule],
  template: `
    <div class="toolbar">
      <p-select
        [options]="periods"
        optionLabel="label"
        optionValue="id"
        [ngModel]="state().period"
        (ngModelChange)="pickPeriod($event)"
        ariaLabel="Date range"
        inputId="period"
        data-testid="period"
      />
      @if (customOpen() || state().period === 'custom') {
        <span class="custom-range">
          <input type="date" aria-label="From" [(ngModel)]="from" [max]="to || today" data-testid="from" />
          <span class="muted">to</span>
          <input type="date" aria-label="To" [(ngModel)]="to" [min]="from" [max]="today" data-testid="to" />
          <p-button label="Apply" size="small" [disabled]="!from || !to || from > to" (onClick)="applyCustom()" />
        </span>
      }
      <p-select
        [options]="comparisons"
        optionLabel="label"
        optionValue="id"
        [ngModel]="state().compare"
        (ngModelChange)="compareChange.emit($event)"
        ariaLabel="Comparison"
        inputId="compare"
        data-testid="compare"
      />
      <ng-content />
    </div>
    @if (state().filters.length) {
      <div class="chips" aria-label="Filters">
        @for (f of chips(); track f.dim) {
          <span class="chip" data-testid="filter-chip">
            <span class="muted">{{ f.label }} {{ f.op }}</span> <strong>{{ f.values }}</strong>
            <button type="button" (click)="removeFilter.emit(f.dim)" [attr.aria-label]="'Remove filter ' + f.label">✕</button>
          </span>
        }
        @if (state().filters.length > 1) {
          <button type="button" class="link" (click)="clearFilters.emit()">Clear all</button>
        }
      </div>
    }
  `,
})
export class Toolbar {
  readonly periods = PERIODS.map((p) => ({ ...p }));
  readonly comparisons = COMPARISONS.map((c) => ({ ...c }));
  readonly today = new Date().toISOString().slice(0, 10);
  readonly state = input.required<DashState>();
  readonly periodChange = output<{ period: Period; from?: string; to?: string }>();
  readonly compareChange = output<Comparison>();
  readonly removeFilter = output<string>();
  readonly clearFilters = output<void>();
  readonly customOpen = signal(false);
  from = '';
  to = '';

  readonly chips = computed(() =>
    this.state().filters.map((f) => ({ dim: f.dim, label: dimensionLabel(f.dim), op: OP_LABELS[f.op], values: f.values.join(' or ') })),
  );

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
