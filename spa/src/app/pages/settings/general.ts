import { Component, effect, inject, input, output, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { TextareaModule } from 'primeng/textarea';
import { ToggleSwitchModule } from 'primeng/toggleswitch';
import { MessageService } from 'primeng/api';
import { Api, ok, type Site } from '../../api/api';
import { TimezoneSelect } from '../../shared/timezone-select';

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
      <label for="tz">Time zone of reports</label>
      <hk-timezone-select inputId="tz" [(value)]="timezone" />
      <label for="hostnames">Further hostnames <span class="muted">(one per line; subdomains of {{ site().domain }} count already)</span></label>
      <textarea pTextarea id="hostnames" name="hostnames" rows="2" [(ngModel)]="hostnames" placeholder="example.org"></textarea>
      <label for="ips">Excluded IP addresses or ranges <span class="muted">(one per line, e.g. 203.0.113.7 or 10.0.0.0/8)</span></label>
      <textarea pTextarea id="ips" name="ips" rows="2" [(ngModel)]="excluded"></textarea>
      <label class="check"><p-toggleswitch name="dnt" [(ngModel)]="dnt" /> Honour Do Not Track (<code>DNT: 1</code>): such visits are not recorded</label>
      <label class="check"><p-toggleswitch name="gpc" [(ngModel)]="gpc" /> Honour Global Privacy Control (<code>Sec-GPC: 1</code>)</label>
      <label for="retention">Keep data for <span class="muted">(days; empty = forever)</span></label>
      <input pInputText id="retention" name="retention" type="number" min="1" [(ngModel)]="retention" placeholder="forever" />
      <p-button type="submit" label="Save settings" [loading]="busy()" data-testid="save-settings" />
    </form>
  `,
})
export class GeneralSettings {
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
      this.toast.add({ severity: 'success', summary: 'Saved', detail: 'The settings apply to new hits and reports now.' });
    } catch (e) {
      this.toast.add({ severity: 'error', summary: 'Not saved', detail: (e as Error).message, life: 8000 });
    } finally {
      this.busy.set(false);
    }
  }
}
