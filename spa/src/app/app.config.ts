import { ApplicationConfig, provideAppInitializer, provideBrowserGlobalErrorListeners, provideZonelessChangeDetection } from '@angular/core';
import { detectLang, setLang } from './core/i18n';
import { provideRouter, withComponentInputBinding, withInMemoryScrolling } from '@angular/router';
import { providePrimeNG } from 'primeng/config';
import { MessageService } from 'primeng/api';
import Aura from '@primeuix/themes/aura';
import { definePreset } from '@primeuix/themes';
import { routes } from './app.routes';

/** Aura with indigo as the primary colour (the charts' colour). */
const HitKeepPreset = definePreset(Aura, {
  semantic: {
    primary: Object.fromEntries([50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 950].map((n) => [n, `{indigo.${n}}`])),
  },
});

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideZonelessChangeDetection(),
    provideRouter(routes, withComponentInputBinding(), withInMemoryScrolling({ scrollPositionRestoration: 'top' })),
    providePrimeNG({ theme: { preset: HitKeepPreset, options: { darkModeSelector: '.app-dark', cssLayer: false } }, ripple: false }),
    MessageService,
    // The browser's (or the remembered) language, loaded before the first screen renders.
    provideAppInitializer(() => setLang(detectLang(), false)),
  ],
};
