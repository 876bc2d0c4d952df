import { Component, inject, input, OnInit, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ok, type Schemas } from '../../api/api';
import { Auth } from '../../core/auth';
import { roleName, t } from '../../core/i18n';

/** `/invite/:token`: the invited person picks a password and lands signed in. */
@Component({
  selector: 'hk-invite',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, RouterLink],
  template: `
    <main class="auth-page">
      <form class="auth-card" (ngSubmit)="submit()" #f="ngForm">
        <h1><span class="logo">◆</span> {{ t('invite.title') }}</h1>
        @if (loading()) {
          <p class="muted">{{ t('invite.checking') }}</p>
        } @else if (info(); as i) {
          <p data-testid="invite-info">
            {{ i.site ? t('invite.forSite', { email: i.email, site: i.site, role: roleName(i.role || 'viewer') }) : t('invite.for', { email: i.email }) }}
          </p>
          <label for="name">{{ t('invite.yourName') }} <span class="muted">{{ t('common.optional') }}</span></label>
          <input pInputText id="name" name="name" [(ngModel)]="name" autocomplete="name" />
          <label for="password">{{ t('invite.choosePassword') }} <span class="muted">{{ t('common.minPassword') }}</span></label>
          <input pInputText id="password" name="password" type="password" required minlength="8" [(ngModel)]="password" autocomplete="new-password" />
          @if (error()) {
            <p-message severity="error">{{ error() }}</p-message>
          }
          <p-button type="submit" [label]="t('invite.accept')" [loading]="busy()" [disabled]="!f.valid" styleClass="w-full" />
        } @else {
          <p-message severity="warn">{{ error() }}</p-message>
          <a routerLink="/login">{{ t('invite.toLogin') }}</a>
        }
      </form>
    </main>
  `,
})
export class InvitePage implements OnInit {
  protected readonly t = t;
  private readonly api = inject(Api);
  private readonly auth = inject(Auth);
  private readonly router = inject(Router);
  readonly token = input.required<string>();
  readonly info = signal<Schemas['InviteView'] | null>(null);
  readonly loading = signal(true);
  readonly busy = signal(false);
  readonly error = signal('');
  name = '';
  password = '';
  protected readonly roleName = roleName;

  async ngOnInit(): Promise<void> {
    try {
      this.info.set(await ok(this.api.client.GET('/invites/{token}', { params: { path: { token: this.token() } } })));
    } catch (e) {
      const status = (e as { status?: number }).status;
      this.error.set(status === 404 ? t('invite.gone') : (e as Error).message);
    } finally {
      this.loading.set(false);
    }
  }

  async submit(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await this.auth.acceptInvite(this.token(), this.password, this.name.trim() || undefined);
      const site = this.info()?.site;
      await this.router.navigateByUrl(site ? `/sites/${site}` : '/');
    } catch (e) {
      this.error.set((e as Error).message);
    } finally {
      this.busy.set(false);
    }
  }
}
