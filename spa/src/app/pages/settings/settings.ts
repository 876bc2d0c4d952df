import { Component, inject, input } from '@angular/core';
import { Router } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { SiteContext } from '../../core/site-context';
import { Auth } from '../../core/auth';
import { Api, ok } from '../../api/api';
import { TokensPanel } from '../../shared/tokens-panel';
import { Snippet } from './snippet';
import { GeneralSettings } from './general';
import { SharesPanel } from './shares';
import { MembersPanel } from './members';
import { SegmentsPanel } from './segments';
import { NotificationsPanel } from './notifications';
import { t } from '../../core/i18n';

/** Site settings: snippet and live check, reporting and privacy options, share links, segments, webhooks and alerts, API tokens, members. */
@Component({
  selector: 'hk-settings',
  imports: [ButtonModule, TokensPanel, Snippet, GeneralSettings, SharesPanel, MembersPanel, SegmentsPanel, NotificationsPanel],
  template: `
    @if (ctx.site(); as site) {
      <div class="settings">
        <section class="card" id="snippet">
          <h2>{{ t('settings.snippet') }}</h2>
          <hk-snippet [site]="site.domain" [fresh]="!!new()" />
        </section>
        <section class="card" id="general">
          <h2>{{ t('settings.general') }}</h2>
          <hk-general-settings [site]="site" (saved)="ctx.site.set($event)" />
        </section>
        <section class="card" id="shares">
          <h2>{{ t('settings.shares') }}</h2>
          <p class="muted">{{ t('settings.sharesHint') }}</p>
          <hk-shares-panel [site]="site.domain" />
        </section>
        <section class="card" id="segments">
          <h2>{{ t('segment.title') }}</h2>
          <hk-segments-panel [site]="site.domain" />
        </section>
        <section class="card" id="notifications">
          <h2>{{ t('settings.notifications') }}</h2>
          <hk-notifications-panel [site]="site.domain" />
        </section>
        <section class="card" id="tokens">
          <h2>{{ t('account.tokens') }}</h2>
          <hk-tokens-panel [site]="site.domain" />
        </section>
        <section class="card" id="members">
          <h2>{{ t('settings.members') }}</h2>
          <hk-members-panel [site]="site.domain" />
        </section>
        @if (auth.role(site.domain) === 'owner') {
          <section class="card danger" id="delete">
            <h2>{{ t('settings.delete') }}</h2>
            <p class="muted">{{ t('settings.deleteHint') }}</p>
            <p-button [label]="t('settings.deleteButton', { site: site.domain })" severity="danger" [outlined]="true" (onClick)="remove(site.domain)" />
          </section>
        }
      </div>
    }
  `,
})
export class SettingsPage {
  protected readonly t = t;
  readonly ctx = inject(SiteContext);
  readonly auth = inject(Auth);
  private readonly api = inject(Api);
  private readonly router = inject(Router);
  readonly new = input<string>();

  async remove(domain: string): Promise<void> {
    if (prompt(t('settings.deletePrompt', { site: domain })) !== domain) return;
    try {
      await ok(this.api.client.DELETE('/sites/{site}', { params: { path: { site: domain } } }));
      await this.auth.load();
      await this.router.navigate(['/']);
    } catch (e) {
      alert((e as Error).message);
    }
  }
}
