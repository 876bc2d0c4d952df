import { inject } from '@angular/core';
import { type CanActivateFn, Router } from '@angular/router';
import { Auth } from './auth';

/** Signed in, else to setup (no user yet) or login (with the way back). */
export const signedInGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(Auth);
  const router = inject(Router);
  try {
    if (auth.me()) return true;
    if (await auth.needsSetup()) return router.createUrlTree(['/setup']);
    if (await auth.load()) return true;
    return router.createUrlTree(['/login'], { queryParams: state.url === '/' ? {} : { next: state.url } });
  } catch {
    // The server did not answer: the login page says so when it tries.
    return router.createUrlTree(['/login'], { queryParams: { next: state.url } });
  }
};

/** The login page is pointless before setup. */
export const setupGuard: CanActivateFn = async () => {
  const auth = inject(Auth);
  try {
    return (await auth.needsSetup()) ? inject(Router).createUrlTree(['/setup']) : true;
  } catch {
    return true;
  }
};

export const adminGuard: CanActivateFn = () => inject(Auth).isAdmin() || inject(Router).createUrlTree(['/']);
