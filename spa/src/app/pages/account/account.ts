import { Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ApiError, ok } from '../../api/api';
import { Auth } from '../../core/auth';
import { TokensPanel } from '../../shared/tokens-panel';

@Component({
  selector: 'hk-account',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, TokensPanel],
  template: `
    <div class="page">
      <h1>Account</h1>
      <section class="card">
        <h2>{{ auth.me()?.name || auth.me()?.email }}</h2>
        <p class="muted">{{ auth.me()?.email }}{{ auth.isAdmin() ? ' · instance administrator' : '' }}</p>
        <ul class="plain">
          @for (s of auth.me()?.sites ?? []; track s.domain) {
            <li>{{ s.domain }} <span class="muted">({{ s.role }})</span></li>
          }
        </ul>
      </section>
      <section class="card">
        <h2>Change password</h2>
        <form class="form narrow" (ngSubmit)="change()" #f="ngForm">
          <label for="cur">Current password</label>
          <input pInputText id="cur" name="cur" type="password" required [(ngModel)]="current" autocomplete="current-password" />
          <label for="new">New password <span class="muted">(at least 8 characters)</span></label>
          <input pInputText id="new" name="new" type="password" required minlength="8" [(ngModel)]="next" autocomplete="new-password" />
          @if (message(); as m) {
            <p-message [severity]="m.ok ? 'success' : 'error'">{{ m.text }}</p-message>
          }
          <p-button type="submit" label="Change password" [disabled]="!f.valid" [loading]="busy()" />
        </form>
      </section>
      <section class="card">
        <h2>API tokens</h2>
        <hk-tokens-panel />
      </section>
    </div>
  `,
})
export class AccountPage {
  private readonly api = inject(Api);
  readonly auth = inject(Auth);
  current = '';
  next = '';
  readonly busy = signal(false);
  readonly message = signal<{ ok: boolean; text: string } | null>(null);

  async change(): Promise<void> {
    this.busy.set(true);
    try {
      await ok(this.api.client.PUT('/me/password', { body: { current_password: this.current, new_password: this.next } }));
      this.message.set({ ok: true, text: 'Password changed.' });
      this.current = this.next = '';
    } catch (e) {
      const err = e as ApiError;
      this.message.set({ ok: false, text: err.code === 'wrong_password' ? 'The current password is wrong.' : err.message });
    } finally {
      this.busy.set(false);
    }
  }
}
