import { Component, effect, inject } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { Toast } from 'primeng/toast';
import { PrimeNG } from 'primeng/config';
import { Theme } from './core/theme';
import { primeTranslation } from './core/i18n';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, Toast],
  template: `<p-toast position="bottom-right" /><router-outlet />`,
})
export class App {
  // Created at start so every page (also sign-in and share views) follows the saved theme.
  protected readonly theme = inject(Theme);
  private readonly primeng = inject(PrimeNG);

  constructor() {
    // PrimeNG's own texts (empty filter results, date picker) follow a language switch.
    effect(() => this.primeng.setTranslation(primeTranslation()));
  }
}
