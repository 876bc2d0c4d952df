import { Component, effect, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { TextareaModule } from 'primeng/textarea';
import { ToggleSwitchModule } from 'primeng/toggleswitch';
import { MessageService } from 'primeng/api';
import { Api, ok, type Site } from '../../api/api';
import { TimezoneSelect } from '../../shared/timezone-select';
import { t } from '../../core/i18n';

/** One entry per line or comma, trimmed, empty ones dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

@Component({
  selector: 'hk-general-settings',
  imports: [FormsModule, ButtonModule, InputTextModule, TextareaModule, ToggleSwitchModule, TimezoneSelect],
  template: `
    <form class="form" (ngSubmit)="save()">
      <label for="tz">{{ t('common.reportTimezone') }}</label>
      <hk-timezone-select inputId="tz" [(value)]="timezone" />
      <label for="hostnames">{{ t('general.hostnames') }} <span class="muted">{{ t('general.hostnamesHint', { site: site().domain }) }}</span></label>
      <textarea pTextarea id="hostnames" name="hostnames" rows="2" [(ngModel)]="hostnames" placeholder="example.org"></textarea>
      <label for="ips">{{ t('general.ips') }} <span class="muted">{{ t('general.ipsHint') }}</span></label>
      <textarea pTextarea id="ips" name="ips" rows="2" [(ngModel)]="excluded"></textarea>
      <label class="check"><p-toggleswitch name="dnt" [(ngModel)]="dnt" /> {{ t('general.dnt', { header: 'DNT: 1' }) }}</label>
      <label class="check"><p-toggleswitch name="gpc" [(ngModel)]="gpc" /> {{ t('general.gpc', { header: 'Sec-GPC: 1' }) }}</label>
      <label for="retention">{{ t('general.retention') }} <span class="muted">{{ t('general.retentionHint') }}</span></label>
      <input pInputText id="retention" name="retention" type="number" min="1" [(ngModel)]="retention" [placeholder]="t('general.forever')" />
      <p-button type="submit" [label]="t('general.save')" [loading]="busy()" data-testid="save-settings" />
    </form>
  `,
})
export class GeneralSettings {
  protected readonly t = t;
  private readonly api = inject(Api);
  private readonly toast = inject(MessageService);
  readonly site = input.required<Site>();
  readonly saved = output<Site>();
  readonly busy = signal(false);
  timezone = 'UTC';
  hostnames = '';
  excluded = '';
  dnt = true;
  gpc = true;
  retention: number | null = null;

  constructor() {
    effect(() => {
      const s = this.site();
      this.timezone = s.timezone;
      this.hostnames = s.hostnames.join('\n');
      this.excluded = (s.excluded_ips ?? []).join('\n');
      this.dnt = s.honor_dnt;
      this.gpc = s.honor_gpc;
      this.retention = s.retention_days || null;
    });
  }

  async save(): Promise<void> {
    this.busy.set(true);
    try {
      const site = await ok(
        this.api.client.PATCH('/sites/{site}', {
          params: { path: { site: this.site().domain } },
          body: {
            timezone: this.timezone,
            hostnames: splitList(this.hostnames),
            excluded_ips: splitList(this.excluded),
            honor_dnt: this.dnt,
            honor_gpc: this.gpc,
            retention_days: this.retention ? Number(this.retention) : 0,
          },
        }),
      );
      this.saved.emit(site);
      this.toast.add({ severity: 'success', summary: t('common.saved'), detail: t('general.savedDetail') });
    } catch (e) {
      this.toast.add({ severity: 'error', summary: t('common.notSaved'), detail: (e as Error).message, life: 8000 });
    } finally {
      this.busy.set(false);
    }
  }
}
