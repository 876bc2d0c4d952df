import { Injectable, signal } from '@angular/core';

const KEY = 'hk-theme';

/** Light or dark, remembered per browser; the first visit follows the system setting. */
@Injectable({ providedIn: 'root' })
export class Theme {
  readonly dark = signal(false);

  constructor() {
    const saved = localStorage.getItem(KEY);
    this.apply(saved ? saved === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches);
  }

  toggle(): void {
    this.apply(!this.dark());
    localStorage.setItem(KEY, this.dark() ? 'dark' : 'light');
  }

  private apply(dark: boolean): void {
    this.dark.set(dark);
    document.documentElement.classList.toggle('app-dark', dark);
  }
}
