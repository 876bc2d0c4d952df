import { Injectable, computed, inject, signal } from '@angular/core';
import { Api, ApiError, type Me, type SecondFactorChallenge, ok } from '../api/api';
import { type Lang, hasStoredLang, isLang, locale, setLang } from './i18n';
import { type PasskeyOptions, getPasskey } from './passkey';

/** Who is signed in (null: nobody), loaded once and updated by login/logout. */
@Injectable({ providedIn: 'root' })
export class Auth {
  private readonly api = inject(Api);
  readonly me = signal<Me | null>(null);
  readonly isAdmin = computed(() => this.me()?.is_admin ?? false);
  private setupNeeded: boolean | null = null;
  private enrolDue: boolean | null = null;

  /** Whether the instance still needs its first user (asked once; false after setup). */
  async needsSetup(): Promise<boolean> {
    if (this.setupNeeded === null) {
      const s = await ok(this.api.client.GET('/setup'));
      this.setupNeeded = s.needed;
    }
    return this.setupNeeded;
  }

  /** The signed-in user, or null on 401. */
  async load(): Promise<Me | null> {
    try {
      this.signedIn(await ok(this.api.client.GET('/me')));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.me.set(null);
      else throw e;
    }
    return this.me();
  }

  async setup(email: string, password: string, name?: string): Promise<void> {
    this.signedIn(await ok(this.api.client.POST('/setup', { body: { email, password, name } })));
    this.setupNeeded = false;
  }

  /**
   * Signs in with the password. Returns the second step (its token and methods) when the account
   * has a second factor (then `loginCode` or `loginPasskeySecondFactor` finishes), else null: signed in.
   */
  async login(email: string, password: string, remember: boolean): Promise<SecondFactorChallenge | null> {
    const r = this.api.client.POST('/auth/login', { body: { email, password, remember } });
    const answer = (await ok(r)) as Me | SecondFactorChallenge;
    if ('token' in answer) return answer;
    this.signedIn(answer);
    return null;
  }

  /** Signs in with a passkey alone: the browser offers the passkeys it holds for this site. */
  async loginPasskey(remember: boolean): Promise<void> {
    const started = await ok(this.api.client.POST('/auth/passkey/options', { body: { remember } }));
    const credential = await getPasskey(started.options as PasskeyOptions);
    this.signedIn(await ok(this.api.client.POST('/auth/passkey', { body: { ceremony: started.ceremony, credential } })));
  }

  /** The second sign-in step with one of the account's passkeys, for the token of `login`. */
  async loginPasskeySecondFactor(token: string): Promise<void> {
    const started = await ok(this.api.client.POST('/auth/login/passkey/options', { body: { token } }));
    const credential = await getPasskey(started.options as PasskeyOptions);
    this.signedIn(await ok(this.api.client.POST('/auth/login/passkey', { body: { ceremony: started.ceremony, credential } })));
  }

  /** The second sign-in step: an authenticator or recovery code for the token of `login`. */
  async loginCode(token: string, code: string, remember: boolean): Promise<void> {
    this.signedIn(await ok(this.api.client.POST('/auth/login/code', { body: { token, code, remember } })));
  }

  /**
   * Whether the signed-in user must still enrol a second factor (the instance requires one);
   * asked once per sign-in.
   */
  async mustEnrol(): Promise<boolean> {
    if (this.enrolDue === null) {
      try {
        const s = await ok(this.api.client.GET('/me/two-factor'));
        this.enrolDue = s.required && !s.totp_enabled && !s.passkeys;
      } catch {
        this.enrolDue = false;
      }
    }
    return this.enrolDue;
  }

  /** Forgets the enrolment check (after enrolling or turning a second factor off). */
  twoFactorChanged(): void {
    this.enrolDue = null;
  }

  async acceptInvite(token: string, password: string, name?: string): Promise<void> {
    this.signedIn(await ok(this.api.client.POST('/invites/{token}/accept', { params: { path: { token } }, body: { password, name } })));
    this.setupNeeded = false;
  }

  /**
   * Switches the dashboard's language and remembers it twice: in this browser, and on the account
   * (the language of the e-mail reports sent to the user's address).
   */
  async setLanguage(l: Lang): Promise<void> {
    await setLang(l);
    if (!this.me()) return;
    try {
      this.me.set(await ok(this.api.client.PATCH('/me', { body: { language: l } })));
    } catch {
      // The local choice stands; the account keeps its previous language until the next switch.
    }
  }

  /**
   * A user signed in: the account's language applies unless this browser remembers a choice;
   * a browser choice the account lacks is saved to it (so reports follow the dashboard).
   */
  private signedIn(me: Me): void {
    this.me.set(me);
    this.enrolDue = null;
    const saved = me.language;
    if (!hasStoredLang() && isLang(saved) && saved !== locale()) void setLang(saved);
    else if (hasStoredLang() && saved !== locale()) void this.setLanguage(locale());
  }

  async logout(): Promise<void> {
    await ok(this.api.client.POST('/auth/logout'));
    this.me.set(null);
  }

  /** The user's role on a site ('owner' | 'admin' | 'viewer'); instance admins manage every site. */
  role(domain: string): string | null {
    const me = this.me();
    if (!me) return null;
    return me.sites.find((s) => s.domain === domain)?.role ?? (me.is_admin ? 'owner' : null);
  }

  canManage(domain: string): boolean {
    const r = this.role(domain);
    return r === 'owner' || r === 'admin';
  }
}
