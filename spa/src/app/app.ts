import { Component, inject } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { Toast } from 'primeng/toast';
import { Theme } from './core/theme';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, Toast],
  template: `<p-toast position="bottom-right" /><router-outlet />`,
})
export class App {
  // Created at start so every page (also sign-in and share views) follows the saved theme.
  protected readonly theme = inject(Theme);
}
