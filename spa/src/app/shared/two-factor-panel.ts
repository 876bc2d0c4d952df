import { Component, inject, resource, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { DomSanitizer, type SafeHtml } from '@angular/platform-browser';
import { ButtonModule } from 'primeng/button';
import { DialogModule } from 'primeng/dialog';
import { InputTextModule } from 'primeng/inputtext';
import { Message } from 'primeng/message';
import { Api, ApiError, ok } from '../api/api';
import { Auth } from '../core/auth';
import { t } from '../core/i18n';
import { CopyField } from './copy-field';

/** What the panel's dialog is doing. */
type Step = 'enrol' | 'codes' | 'disable' | 'regenerate' | null;

/**
 * Two-factor sign-in of the signed-in user: enrol an authenticator app (QR code, then a first code),
 * the recovery codes (shown once), new recovery codes, turning it off.
 */
@Component({
  selector: 'hk-two-factor-panel',
  imports: [FormsModule, ButtonModule, DialogModule, InputTextModule, Message, CopyField],
  template: `
    @if (status.value(); as s) {
      @if (s.required && !s.totp_enabled && !s.passkeys) {
        <p-message severity="warn" data-testid="two-factor-required">{{ t('twoFactor.requiredNotice') }}</p-message>
      }
      @if (s.totp_enabled) {
        <p data-testid="two-factor-state"><i class="pi pi-shield"></i> {{ t('twoFactor.on') }}
          <span class="muted">· {{ t('twoFactor.codesLeft', { count: s.recovery_codes_left }) }}</span></p>
        <div class="form inline">
          <p-button [label]="t('twoFactor.newCodes')" severity="secondary" (onClick)="open('regenerate')" data-testid="regenerate-codes" />
          <p-button [label]="t('twoFactor.turnOff')" severity="danger" [text]="true" (onClick)="open('disable')" data-testid="disable-2fa" />
        </div>
      } @else {
        <p class="muted" data-testid="two-factor-state">{{ t('twoFactor.off') }}</p>
        <p-button [label]="t('twoFactor.setUp')" icon="pi pi-shield" (onClick)="begin()" [loading]="busy()" data-testid="enrol-2fa" />
      }
    } @else if (status.error()) {
      <p class="error-line" role="alert">{{ t('twoFactor.loadFailed') }}</p>
    }
    @if (error() && !step()) {
      <p-message severity="error">{{ error() }}</p-message>
    }

    <p-dialog [header]="title()" [visible]="step() !== null" (visibleChange)="$event || close()" [modal]="true" [style]="{ width: 'min(30rem, 95vw)' }">
      @switch (step()) {
        @case ('enrol') {
          <form class="form" (ngSubmit)="confirm()" #f="ngForm">
            <p>{{ t('twoFactor.scan') }}</p>
            <div class="qr" [innerHTML]="qr()" data-testid="totp-qr"></div>
            <p class="muted small">{{ t('twoFactor.typeInstead') }}</p>
            <hk-copy-field [value]="secret()" testId="totp-secret" />
            <label for="enrol-code">{{ t('twoFactor.firstCode') }}</label>
            <input pInputText id="enrol-code" name="code" required [(ngModel)]="code" autocomplete="one-time-code" inputmode="numeric" data-testid="enrol-code" />
            @if (error()) {
              <p-message severity="error">{{ error() }}</p-message>
            }
            <p-button type="submit" [label]="t('twoFactor.turnOn')" [disabled]="!f.valid" [loading]="busy()" data-testid="confirm-2fa" />
          </form>
        }
        @case ('codes') {
          <p-message severity="success">{{ t('twoFactor.saveCodes') }}</p-message>
          <ul class="recovery-codes" data-testid="recovery-codes">
            @for (c of codes(); track c) {
              <li><code>{{ c }}</code></li>
            }
          </ul>
          <hk-copy-field [value]="codes().join('\\n')" testId="recovery-codes-copy" />
          <p-button [label]="t('twoFactor.saved')" (onClick)="close()" data-testid="codes-saved" />
        }
        @case ('disable') {
          <form class="form" (ngSubmit)="disable()" #d="ngForm">
            <p>{{ t('twoFactor.turnOffHint') }}</p>
            <label for="off-password">{{ t('login.password') }}</label>
            <input pInputText id="off-password" name="password" type="password" required [(ngModel)]="password" autocomplete="current-password" />
            <label for="off-code">{{ t('twoFactor.code') }}</label>
            <input pInputText id="off-code" name="code" required [(ngModel)]="code" autocomplete="one-time-code" />
            @if (error()) {
              <p-message severity="error">{{ error() }}</p-message>
            }
            <p-button type="submit" severity="danger" [label]="t('twoFactor.turnOff')" [disabled]="!d.valid" [loading]="busy()" />
          </form>
        }
        @case ('regenerate') {
          <form class="form" (ngSubmit)="regenerate()" #r="ngForm">
            <p>{{ t('twoFactor.newCodesHint') }}</p>
            <label for="regen-password">{{ t('login.password') }}</label>
            <input pInputText id="regen-password" name="password" type="password" required [(ngModel)]="password" autocomplete="current-password" />
            @if (error()) {
              <p-message severity="error">{{ error() }}</p-message>
            }
            <p-button type="submit" [label]="t('twoFactor.newCodes')" [disabled]="!r.valid" [loading]="busy()" />
          </form>
        }
      }
    </p-dialog>
  `,
  styles: `
    .qr { display: flex; justify-content: center; background: #fff; padding: 0.5rem; border-radius: 6px; }
    .recovery-codes { columns: 2; font-size: 1.05rem; list-style: none; padding: 0; }
  `,
})
export class TwoFactorPanel {
  protected readonly t = t;
  private readonly api = inject(Api);
  private readonly auth = inject(Auth);
  private readonly sanitizer = inject(DomSanitizer);
  readonly status = resource({ loader: () => ok(this.api.client.GET('/me/two-factor')) });
  readonly step = signal<Step>(null);
  readonly busy = signal(false);
  readonly error = signal('');
  readonly secret = signal('');
  /** The server's QR code SVG (our own answer, not user content). */
  readonly qr = signal<SafeHtml>('');
  readonly codes = signal<string[]>([]);
  code = '';
  password = '';

  title(): string {
    const titles = { enrol: 'twoFactor.setUp', codes: 'twoFactor.codesTitle', disable: 'twoFactor.turnOff', regenerate: 'twoFactor.newCodes' } as const;
    const s = this.step();
    return s ? t(titles[s]) : '';
  }

  open(step: Step): void {
    this.code = this.password = '';
    this.error.set('');
    this.step.set(step);
  }

  close(): void {
    this.step.set(null);
    this.code = this.password = '';
    this.status.reload();
  }

  async begin(): Promise<void> {
    await this.run(async () => {
      const e = await ok(this.api.client.POST('/me/two-factor/totp'));
      this.secret.set(e.secret);
      this.qr.set(this.sanitizer.bypassSecurityTrustHtml(e.qr_svg));
      this.open('enrol');
    });
  }

  async confirm(): Promise<void> {
    await this.run(async () => {
      const r = await ok(this.api.client.POST('/me/two-factor/totp/confirm', { body: { code: this.code } }));
      this.showCodes(r.codes);
    });
  }

  async regenerate(): Promise<void> {
    await this.run(async () => {
      const r = await ok(this.api.client.POST('/me/two-factor/recovery-codes', { body: { password: this.password } }));
      this.showCodes(r.codes);
    });
  }

  async disable(): Promise<void> {
    await this.run(async () => {
      await ok(this.api.client.POST('/me/two-factor/totp/disable', { body: { password: this.password, code: this.code } }));
      this.auth.twoFactorChanged();
      this.close();
    });
  }

  private showCodes(codes: string[]): void {
    this.codes.set(codes);
    this.auth.twoFactorChanged();
    this.open('codes');
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await work();
    } catch (e) {
      const err = e as ApiError;
      this.error.set(
        err.code === 'wrong_code' ? t('twoFactor.wrongCode')
        : err.code === 'wrong_password' ? t('account.wrongPassword')
        : err.status === 429 ? t('login.tooMany')
        : err.message,
      );
    } finally {
      this.busy.set(false);
    }
  }
}
