import { Component, effect, inject, input, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { ToggleSwitchModule } from 'primeng/toggleswitch';
import { Message } from 'primeng/message';
import { Api, ok, type Schemas } from '../../api/api';
import { CopyField } from '../../shared/copy-field';
import { formatDateTime } from '../../core/format';
import { t, type I18nKey } from '../../core/i18n';
import { splitList } from './general';

/** Events a webhook can subscribe to, in the order the form lists them. */
const EVENTS = ['goal.converted', 'report.daily', 'report.weekly', 'traffic.spike', 'traffic.drop'] as const;

/** Webhooks (list, create, delete, delivery log, redeliver) and traffic alert settings of a site. */
@Component({
  selector: 'hk-notifications-panel',
  imports: [FormsModule, ButtonModule, InputTextModule, ToggleSwitchModule, Message, CopyField],
  template: `
    <h3>{{ t('notify.webhooks') }}</h3>
    <p class="muted">{{ t('notify.webhooksHint') }}</p>
    <form class="form" (ngSubmit)="create()">
      <label for="hook-url">{{ t('notify.url') }}</label>
      <input pInputText id="hook-url" name="url" [(ngModel)]="url" placeholder="http://chat.example.org/hooks/…" data-testid="webhook-url" />
      <fieldset class="checks">
        <legend>{{ t('notify.events') }}</legend>
        @for (e of events; track e) {
          <label class="check"><input type="checkbox" [name]="e" [(ngModel)]="chosen[e]" /> {{ eventLabel(e) }}</label>
        }
      </fieldset>
      <label for="hook-format">{{ t('notify.format') }}</label>
      <select id="hook-format" name="format" [(ngModel)]="format">
        <option value="generic">{{ t('notify.formatGeneric') }}</option>
        <option value="slack">Slack</option>
        <option value="discord">Discord</option>
      </select>
      <p-button type="submit" [label]="t('notify.create')" [loading]="busy()" data-testid="create-webhook" />
    </form>
    @if (secret(); as s) {
      <p-message severity="success">{{ t('notify.secretOnce') }}</p-message>
      <hk-copy-field [value]="s" testId="webhook-secret" />
    }
    @if (error()) {
      <p-message severity="error">{{ error() }}</p-message>
    }
    @if (hooks.error(); as e) {
      <p class="error-line" role="alert">{{ t('notify.loadError', { error: $any(e).message }) }}</p>
    } @else if (hooks.hasValue() && hooks.value().length === 0) {
      <p class="muted">{{ t('notify.empty') }}</p>
    } @else if (hooks.hasValue()) {
      <table class="table">
        <thead><tr><th>{{ t('notify.url') }}</th><th>{{ t('notify.events') }}</th><th>{{ t('notify.format') }}</th><th></th></tr></thead>
        <tbody>
          @for (h of hooks.value(); track h.id) {
            <tr data-testid="webhook-row">
              <td><code>{{ h.url }}</code></td>
              <td>{{ h.events.join(', ') }}</td>
              <td>{{ h.format }}</td>
              <td class="actions"><p-button [label]="t('common.delete')" [text]="true" severity="danger" size="small" (onClick)="remove(h)" /></td>
            </tr>
          }
        </tbody>
      </table>
      <h4>{{ t('notify.log') }}</h4>
      @if (log.hasValue() && log.value().length === 0) {
        <p class="muted">{{ t('notify.logEmpty') }}</p>
      } @else if (log.hasValue()) {
        <table class="table">
          <thead><tr><th>{{ t('notify.when') }}</th><th>{{ t('notify.event') }}</th><th>{{ t('notify.state') }}</th><th>{{ t('notify.attempts') }}</th><th></th></tr></thead>
          <tbody>
            @for (d of log.value(); track d.id) {
              <tr data-testid="delivery-row">
                <td>{{ formatDateTime(d.created_at) }}</td>
                <td>{{ d.event }}</td>
                <td>
                  {{ stateLabel(d.state) }}@if (d.last_status) { ({{ d.last_status }})}
                  @if (d.last_error) {
                    <br /><small class="muted delivery-error" data-testid="delivery-error">{{ d.last_error }}</small>
                  }
                </td>
                <td>{{ d.attempts }}</td>
                <td class="actions"><p-button [label]="t('notify.redeliver')" [text]="true" size="small" (onClick)="redeliver(d)" /></td>
              </tr>
            }
          </tbody>
        </table>
      }
    }

    <h3>{{ t('notify.alerts') }}</h3>
    <p class="muted">{{ t('notify.alertsHint') }}</p>
    <form class="form" (ngSubmit)="saveAlerts()">
      <label class="check"><p-toggleswitch name="alerts-on" [(ngModel)]="alerts.enabled" /> {{ t('notify.alertsOn') }}</label>
      <label for="spike">{{ t('notify.spikeFactor') }}</label>
      <input pInputText id="spike" name="spike" type="number" step="0.1" min="1.1" [(ngModel)]="alerts.spike_factor" />
      <label for="drop">{{ t('notify.dropFactor') }}</label>
      <input pInputText id="drop" name="drop" type="number" step="0.05" min="0.05" max="0.95" [(ngModel)]="alerts.drop_factor" />
      <label for="min">{{ t('notify.minPageviews') }}</label>
      <input pInputText id="min" name="min" type="number" min="1" [(ngModel)]="alerts.min_pageviews" />
      <label for="weeks">{{ t('notify.weeks') }}</label>
      <input pInputText id="weeks" name="weeks" type="number" min="1" max="12" [(ngModel)]="alerts.weeks" />
      <label for="alert-emails">{{ t('notify.emails') }} <span class="muted">{{ t('notify.emailsHint') }}</span></label>
      <input pInputText id="alert-emails" name="emails" [(ngModel)]="emails" data-testid="alert-emails" />
      <p-button type="submit" [label]="t('notify.saveAlerts')" [loading]="busy()" data-testid="save-alerts" />
    </form>
    @if (raised.hasValue() && raised.value().length) {
      <table class="table">
        <thead><tr><th>{{ t('notify.when') }}</th><th>{{ t('notify.kind') }}</th><th>{{ t('notify.pageviews') }}</th><th>{{ t('notify.typical') }}</th></tr></thead>
        <tbody>
          @for (a of raised.value(); track a.raised_at + a.kind) {
            <tr data-testid="alert-row">
              <td>{{ formatDateTime(a.raised_at) }}</td>
              <td>{{ a.kind === 'spike' ? t('notify.spike') : t('notify.drop') }}</td>
              <td>{{ a.pageviews }}</td>
              <td>{{ a.typical }}</td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
})
export class NotificationsPanel {
  protected readonly t = t;
  protected readonly formatDateTime = formatDateTime;
  protected readonly events = EVENTS;
  private readonly api = inject(Api);
  readonly site = input.required<string>();
  readonly busy = signal(false);
  readonly error = signal('');
  readonly secret = signal<string | null>(null);
  url = '';
  format = 'generic';
  chosen: Record<string, boolean> = { 'traffic.spike': true, 'traffic.drop': true };
  alerts: Schemas['AlertSettingsView'] = { enabled: true, spike_factor: 2, drop_factor: 0.5, min_pageviews: 20, weeks: 4, emails: [] };
  emails = '';

  readonly hooks = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/webhooks', { params: { path: params }, signal: abortSignal })) as Promise<Schemas['WebhookView'][]>,
  });
  readonly log = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) =>
      ok(this.api.client.GET('/sites/{site}/webhooks/deliveries', { params: { path: params, query: { limit: 20 } }, signal: abortSignal })) as Promise<
        Schemas['DeliveryView'][]
      >,
  });
  private readonly settings = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) => ok(this.api.client.GET('/sites/{site}/alerts/settings', { params: { path: params }, signal: abortSignal })),
  });
  readonly raised = resource({
    params: () => ({ site: this.site() }),
    loader: ({ params, abortSignal }) => ok(this.api.client.GET('/sites/{site}/alerts', { params: { path: params }, signal: abortSignal })),
  });

  constructor() {
    effect(() => {
      if (!this.settings.hasValue()) return;
      this.alerts = { ...this.settings.value() };
      this.emails = this.alerts.emails.join(', ');
    });
  }

  eventLabel(e: string): string {
    return t(`notify.event.${e}` as I18nKey);
  }

  stateLabel(state: string): string {
    return t(`notify.stateName.${state}` as I18nKey);
  }

  async create(): Promise<void> {
    const events = EVENTS.filter((e) => this.chosen[e]);
    await this.run(async () => {
      const body = { url: this.url.trim(), events: [...events], format: this.format };
      const h = (await ok(this.api.client.POST('/sites/{site}/webhooks', { params: { path: { site: this.site() } }, body }))) as Schemas['WebhookView'];
      this.secret.set(h.secret ?? null);
      this.url = '';
    });
  }

  async remove(h: Schemas['WebhookView']): Promise<void> {
    if (!confirm(t('notify.deleteConfirm', { url: h.url }))) return;
    await this.run(() => ok(this.api.client.DELETE('/sites/{site}/webhooks/{id}', { params: { path: { site: this.site(), id: h.id } } })));
  }

  async redeliver(d: Schemas['DeliveryView']): Promise<void> {
    await this.run(() => ok(this.api.client.POST('/sites/{site}/webhooks/deliveries/{id}/redeliver', { params: { path: { site: this.site(), id: d.id } } })));
  }

  async saveAlerts(): Promise<void> {
    await this.run(async () => {
      const body = { ...this.alerts, emails: splitList(this.emails) };
      this.alerts = await ok(this.api.client.PUT('/sites/{site}/alerts/settings', { params: { path: { site: this.site() } }, body }));
    });
  }

  /** Runs a change, shows its error, and reloads what it may have changed. */
  private async run(change: () => Promise<unknown>): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await change();
      this.hooks.reload();
      this.log.reload();
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
