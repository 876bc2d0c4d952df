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
    // A step darker than Aura's default in light mode: white on indigo-600 passes WCAG AA (500 does not).
    colorScheme: {
      light: { primary: { color: '{primary.600}', contrastColor: '#ffffff', hoverColor: '{primary.700}', activeColor: '{primary.800}' } },
    },
  },
  // Danger buttons: white on red-600 and red-700 text (red-500 is 3.8:1 against white, under WCAG AA).
  components: {
    button: {
      colorScheme: {
        light: {
          root: {
            danger: { background: '{red.600}', hoverBackground: '{red.700}', activeBackground: '{red.800}', borderColor: '{red.600}', hoverBorderColor: '{red.700}', activeBorderColor: '{red.800}' },
          },
          outlined: { danger: { color: '{red.700}', borderColor: '{red.300}' } },
          text: { danger: { color: '{red.700}' } },
        },
      },
    },
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
