import { inject } from '@angular/core';
import { type CanActivateFn, Router } from '@angular/router';
import { Auth } from './auth';

/**
 * Signed in, else to setup (no user yet) or login (with the way back). When the instance requires
 * two-factor sign-in and the user has none yet, every page but the account page sends them there.
 */
export const signedInGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(Auth);
  const router = inject(Router);
  const enrolFirst = async () =>
    !state.url.startsWith('/account') && (await auth.mustEnrol()) ? router.createUrlTree(['/account'], { fragment: 'two-factor' }) : true;
  try {
    if (auth.me()) return await enrolFirst();
    if (await auth.needsSetup()) return router.createUrlTree(['/setup']);
    if (await auth.load()) return await enrolFirst();
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
