import { Component, computed, inject, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { DialogModule } from 'primeng/dialog';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { SelectButtonModule } from 'primeng/selectbutton';
import { MessageService } from 'primeng/api';
import { Api, ok, type Schemas } from '../../api/api';
import { SiteContext } from '../../core/site-context';
import { Auth } from '../../core/auth';
import { Stats, metricAt } from '../../core/stats';
import { buildQuery, dateRange, withoutFilter } from '../../core/dash-state';
import { formatCount, formatRate } from '../../core/format';
import { Toolbar } from '../dashboard/toolbar';
import { injectDashUrl } from '../dashboard/dash-url';
import { FunnelChart } from './funnel-chart';
import { t } from '../../core/i18n';

type Goal = Schemas['GoalView'];
type Funnel = Schemas['FunnelView'];
type StepKind = 'page' | 'event';
interface StepDraft { kind: StepKind; value: string }

/** Goals (pageview or custom event) with conversions, and funnels with their step-by-step report. */
@Component({
  selector: 'hk-goals',
  imports: [FormsModule, ButtonModule, DialogModule, InputTextModule, Message, SelectButtonModule, Toolbar, FunnelChart],
  template: `
    <hk-toolbar
      [state]="state()"
      (periodChange)="url.set({ ...state(), period: $event.period, from: $event.from, to: $event.to })"
      (compareChange)="url.set({ ...state(), compare: $event })"
      (removeFilter)="url.set(withoutFilter(state(), $event))"
      (clearFilters)="url.set({ ...state(), filters: [] })"
    />
    <div class="cards two">
      <section class="card">
        <header class="card-head">
          <h2>{{ t('goalsPage.title') }}</h2>
          @if (!readOnly()) {
            <p-button [label]="t('goalsPage.new')" icon="pi pi-plus" size="small" (onClick)="editGoal(null)" data-testid="new-goal" />
          }
        </header>
        @if (goals.error(); as e) {
          <p class="error-line" role="alert">{{ t('goalsPage.error', { error: $any(e).message }) }}</p>
        } @else if (goals.hasValue() && goals.value().length === 0) {
          <p class="muted empty">{{ t('goalsPage.empty', { page: '/thanks', event: 'signup' }) }}</p>
        } @else {
          <table class="table">
            <thead><tr><th>{{ t('goals.goal') }}</th><th class="num">{{ t('metric.visitors') }}</th><th class="num">{{ t('goalsPage.conversion') }}</th>@if (!readOnly()) {<th></th>}</tr></thead>
            <tbody>
              @for (g of goalRows(); track g.id) {
                <tr data-testid="goal-row">
                  <td>{{ g.name }}<br /><small class="muted">{{ g.what }}</small></td>
                  <td class="num">{{ g.visitors }}</td>
                  <td class="num">{{ g.rate }}</td>
                  @if (!readOnly()) {
                    <td class="actions">
                      <p-button icon="pi pi-pencil" [text]="true" size="small" (onClick)="editGoal(g.goal)" [ariaLabel]="t('goalsPage.editNamed', { name: g.name })" />
                      <p-button icon="pi pi-trash" [text]="true" severity="danger" size="small" (onClick)="deleteGoal(g.goal)" [ariaLabel]="t('goalsPage.deleteNamed', { name: g.name })" />
                    </td>
                  }
                </tr>
              }
            </tbody>
          </table>
        }
      </section>
      <section class="card">
        <header class="card-head">
          <h2>{{ t('funnels.title') }}</h2>
          @if (!readOnly()) {
            <p-button [label]="t('funnels.new')" icon="pi pi-plus" size="small" (onClick)="editFunnel(null)" data-testid="new-funnel" />
          }
        </header>
        @if (funnels.error(); as e) {
          <p class="error-line" role="alert">{{ t('funnels.error', { error: $any(e).message }) }}</p>
        } @else if (funnels.hasValue() && funnels.value().length === 0) {
          <p class="muted empty">{{ t('funnels.empty') }}</p>
        } @else if (funnels.hasValue()) {
          <div class="card-tabs wrap">
            @for (f of funnels.value(); track f.id) {
              <button type="button" [class.active]="f.id === funnelId()" (click)="funnelId.set(f.id)">{{ f.name }}</button>
            }
          </div>
          @if (report.error(); as e) {
            <p class="error-line" role="alert">{{ t('funnels.reportError', { error: $any(e).message }) }}</p>
          } @else if (report.hasValue() && report.value(); as r) {
            <hk-funnel-chart [report]="r" />
            @if (!readOnly() && currentFunnel(); as f) {
              <div class="row-actions">
                <p-button [label]="t('common.edit')" icon="pi pi-pencil" [text]="true" size="small" (onClick)="editFunnel(f)" />
                <p-button [label]="t('common.delete')" icon="pi pi-trash" [text]="true" severity="danger" size="small" (onClick)="deleteFunnel(f)" />
              </div>
            }
          } @else {
            <p class="muted empty">{{ t('funnels.loading') }}</p>
          }
        }
      </section>
    </div>

    <p-dialog [header]="goalDraft.id ? t('goalsPage.edit') : t('goalsPage.new')" [visible]="goalOpen()" (visibleChange)="goalOpen.set($event)" [modal]="true" [style]="{ width: 'min(28rem, 95vw)' }">
      <form class="form" (ngSubmit)="saveGoal()" #gf="ngForm">
        <p-selectbutton [options]="kinds()" [(ngModel)]="goalDraft.kind" name="kind" optionLabel="label" optionValue="value" [allowEmpty]="false" />
        <label for="goal-value">{{ goalDraft.kind === 'page' ? t('goalsPage.pagePath') : t('goalsPage.eventName') }}</label>
        <input pInputText id="goal-value" name="value" required [(ngModel)]="goalDraft.value" [placeholder]="goalDraft.kind === 'page' ? '/thanks' : 'signup'" />
        <label for="goal-name">{{ t('goalsPage.displayName') }} <span class="muted">{{ t('common.optional') }}</span></label>
        <input pInputText id="goal-name" name="name" [(ngModel)]="goalDraft.name" />
        @if (goalDraft.id) {
          <small class="muted">{{ t('goalsPage.replaceHint') }}</small>
        }
        @if (dialogError()) {
          <p-message severity="error">{{ dialogError() }}</p-message>
        }
        <p-button type="submit" [label]="t('goalsPage.save')" [disabled]="!gf.valid" [loading]="busy()" />
      </form>
    </p-dialog>

    <p-dialog [header]="funnelDraft.id ? t('funnels.edit') : t('funnels.new')" [visible]="funnelOpen()" (visibleChange)="funnelOpen.set($event)" [modal]="true" [style]="{ width: 'min(34rem, 95vw)' }">
      <form class="form" (ngSubmit)="saveFunnel()" #ff="ngForm">
        <label for="funnel-name">{{ t('common.name') }}</label>
        <input pInputText id="funnel-name" name="fname" required [(ngModel)]="funnelDraft.name" placeholder="Signup" />
        @for (s of funnelDraft.steps; track $index; let i = $index) {
          <div class="step">
            <span class="step-no">{{ i + 1 }}</span>
            <select [(ngModel)]="s.kind" [name]="'k' + i" [attr.aria-label]="t('funnels.stepKind', { n: i + 1 })">
              <option value="page">{{ t('funnels.page') }}</option>
              <option value="event">{{ t('funnels.event') }}</option>
            </select>
            <input pInputText [(ngModel)]="s.value" [name]="'v' + i" required [placeholder]="s.kind === 'page' ? '/pricing' : 'signup'" [attr.aria-label]="t('funnels.step', { n: i + 1 })" />
            <p-button icon="pi pi-times" [text]="true" severity="secondary" size="small" [disabled]="funnelDraft.steps.length <= 2" (onClick)="funnelDraft.steps.splice(i, 1)" [ariaLabel]="t('funnels.removeStep')" />
          </div>
        }
        <p-button [label]="t('funnels.addStep')" icon="pi pi-plus" [text]="true" size="small" [disabled]="funnelDraft.steps.length >= 8" (onClick)="funnelDraft.steps.push({ kind: 'page', value: '' })" />
        @if (dialogError()) {
          <p-message severity="error">{{ dialogError() }}</p-message>
        }
        <p-button type="submit" [label]="t('funnels.save')" [disabled]="!ff.valid" [loading]="busy()" />
      </form>
    </p-dialog>
  `,
})
export class GoalsPage {
  protected readonly t = t;
  protected readonly withoutFilter = withoutFilter;
  private readonly api = inject(Api);
  private readonly stats = inject(Stats);
  private readonly ctx = inject(SiteContext);
  private readonly toast = inject(MessageService);
  readonly url = injectDashUrl();
  readonly state = this.url.state;
  private readonly auth = inject(Auth);
  private readonly site = computed(() => this.ctx.site()!.domain);
  /** Share views and viewers see goals and funnels but cannot change them. */
  readonly readOnly = computed(() => this.ctx.readOnly() || !this.auth.canManage(this.site()));
  readonly kinds = computed(() => [
    { label: t('goalsPage.kindPage'), value: 'page' },
    { label: t('goalsPage.kindEvent'), value: 'event' },
  ]);

  readonly goals = resource({
    params: () => ({ site: this.site() }),
    // The spec gives goals operations one shared set of 2xx answers, so narrow to the list.
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/goals', { params: { path: params }, signal: abortSignal })) as Promise<Goal[]>,
  });
  readonly conversions = resource({
    params: () =>
      this.goals.hasValue() && this.goals.value().length
        ? buildQuery(this.site(), this.state(), { metrics: ['visitors', 'conversion_rate'], dimensions: ['event:goal'], noCompare: true })
        : undefined,
    loader: ({ params, abortSignal }) => this.stats.query(params, abortSignal),
  });
  readonly goalRows = computed(() => {
    const rows = this.conversions.hasValue() ? (this.conversions.value()?.results ?? []) : [];
    const byName = new Map(rows.map((r) => [String(r.dimensions[0]), r]));
    return (this.goals.hasValue() ? this.goals.value() : []).map((g) => {
      const r = byName.get(g.display_name);
      const rate = metricAt(r, 1);
      return {
        id: g.id,
        goal: g,
        name: g.display_name,
        what: g.page_path ? t('goalsPage.visits', { page: g.page_path }) : t('goalsPage.event', { name: g.event_name ?? '' }),
        visitors: this.conversions.isLoading() ? '…' : formatCount(metricAt(r, 0) ?? 0),
        rate: this.conversions.isLoading() ? '…' : formatRate(rate ?? 0),
      };
    });
  });

  readonly funnels = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/funnels', { params: { path: params }, signal: abortSignal })) as Promise<Funnel[]>,
  });
  readonly funnelId = signal<number | null>(null);
  readonly currentFunnel = computed(() => {
    const list = this.funnels.hasValue() ? this.funnels.value() : [];
    return list.find((f) => f.id === this.funnelId()) ?? list[0] ?? null;
  });
  readonly report = resource({
    params: () => {
      const f = this.currentFunnel();
      if (!f) return undefined;
      const range = dateRange(this.state());
      return { site: this.site(), id: f.id, date_range: Array.isArray(range) ? range.join(',') : range };
    },
    loader: ({ params, abortSignal }) =>
      ok(
        this.api.client.GET('/sites/{site}/funnels/{id}', {
          params: { path: { site: params.site, id: params.id }, query: { date_range: params.date_range } },
          signal: abortSignal,
        }),
      ),
  });

  readonly goalOpen = signal(false);
  readonly funnelOpen = signal(false);
  goalDraft: { id?: number; kind: StepKind; value: string; name: string } = { kind: 'page', value: '', name: '' };
  funnelDraft: { id?: number; name: string; steps: StepDraft[] } = { name: '', steps: [] };
  readonly busy = signal(false);
  readonly dialogError = signal('');

  editGoal(g: Goal | null): void {
    this.dialogError.set('');
    this.goalDraft = g
      ? { id: g.id, kind: g.page_path ? 'page' : 'event', value: g.page_path ?? g.event_name ?? '', name: g.display_name }
      : { kind: 'page', value: '', name: '' };
    this.goalOpen.set(true);
  }

  async saveGoal(): Promise<void> {
    const d = this.goalDraft;
    await this.run(async () => {
      const body = { display_name: d.name.trim() || undefined, ...(d.kind === 'page' ? { page_path: d.value.trim() } : { event_name: d.value.trim() }) };
      await ok(this.api.client.POST('/sites/{site}/goals', { params: { path: { site: this.site() } }, body }));
      if (d.id) await ok(this.api.client.DELETE('/sites/{site}/goals/{id}', { params: { path: { site: this.site(), id: d.id } } }));
      this.goalOpen.set(false);
      this.goals.reload();
    });
  }

  async deleteGoal(g: Goal): Promise<void> {
    if (!confirm(t('goalsPage.deleteConfirm', { name: g.display_name }))) return;
    await this.run(async () => {
      await ok(this.api.client.DELETE('/sites/{site}/goals/{id}', { params: { path: { site: this.site(), id: g.id } } }));
      this.goals.reload();
    });
  }

  editFunnel(f: Funnel | null): void {
    this.dialogError.set('');
    this.funnelDraft = f
      ? { id: f.id, name: f.name, steps: f.steps.map((s) => ({ kind: s.page_path ? 'page' : 'event', value: s.page_path ?? s.event_name ?? '' })) }
      : { name: '', steps: [{ kind: 'page', value: '/' }, { kind: 'page', value: '' }] };
    this.funnelOpen.set(true);
  }

  async saveFunnel(): Promise<void> {
    const d = this.funnelDraft;
    await this.run(async () => {
      const steps = d.steps.map((s) => (s.kind === 'page' ? { page_path: s.value.trim() } : { event_name: s.value.trim() }));
      const created = await ok(this.api.client.POST('/sites/{site}/funnels', { params: { path: { site: this.site() } }, body: { name: d.name.trim(), steps } }));
      if (d.id) await ok(this.api.client.DELETE('/sites/{site}/funnels/{id}', { params: { path: { site: this.site(), id: d.id } } }));
      this.funnelOpen.set(false);
      this.funnels.reload();
      this.funnelId.set(created.id);
    });
  }

  async deleteFunnel(f: Funnel): Promise<void> {
    if (!confirm(t('funnels.deleteConfirm', { name: f.name }))) return;
    await this.run(async () => {
      await ok(this.api.client.DELETE('/sites/{site}/funnels/{id}', { params: { path: { site: this.site(), id: f.id } } }));
      this.funnelId.set(null);
      this.funnels.reload();
    });
  }

  private async run(fn: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.dialogError.set('');
    try {
      await fn();
    } catch (e) {
      const msg = (e as Error).message;
      if (this.goalOpen() || this.funnelOpen()) this.dialogError.set(msg);
      else this.toast.add({ severity: 'error', summary: t('common.notSaved'), detail: msg });
    } finally {
      this.busy.set(false);
    }
  }
}
