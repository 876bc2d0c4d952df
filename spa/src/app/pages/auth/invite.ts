import { Component, inject, input, OnInit, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { ButtonModule } from 'primeng/button';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ok, type Schemas } from '../../api/api';
import { Auth } from '../../core/auth';

/** `/invite/:token`: the invited person picks a password and lands signed in. */
@Component({
  selector: 'hk-invite',
  imports: [FormsModule, ButtonModule, InputTextModule, Message, RouterLink],
  template: `
    <main class="auth-page">
      <form class="auth-card" (ngSubmit)="submit()" #f="ngForm">
        <h1><span class="logo">◆</span> Join HitKeep</h1>
        @if (loading()) {
          <p class="muted">Checking the invitation…</p>
        } @else if (info(); as i) {
          <p>
            Invitation for <strong>{{ i.email }}</strong>
            @if (i.site) {
              to <strong>{{ i.site }}</strong> as {{ i.role || 'viewer' }}
            }
          </p>
          <label for="name">Your name <span class="muted">(optional)</span></label>
          <input pInputText id="name" name="name" [(ngModel)]="name" autocomplete="name" />
          <label for="password">Choose a password <span class="muted">(at least 8 characters)</span></label>
          <input pInputText id="password" name="password" type="password" required minlength="8" [(ngModel)]="password" autocomplete="new-password" />
          @if (error()) {
            <p-message severity="error">{{ error() }}</p-message>
          }
          <p-button type="submit" label="Accept and sign in" [loading]="busy()" [disabled]="!f.valid" styleClass="w-full" />
        } @else {
          <p-message severity="warn">{{ error() }}</p-message>
          <a routerLink="/login">Go to sign in</a>
        }
      </form>
    </main>
  `,
})
export class InvitePage implements OnInit {
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

  async ngOnInit(): Promise<void> {
    try {
      this.info.set(await ok(this.api.client.GET('/invites/{token}', { params: { path: { token: this.token() } } })));
    } catch (e) {
      const status = (e as { status?: number }).status;
      this.error.set(status === 404 ? 'This invitation does not exist, was used already or has expired.' : (e as Error).message);
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
