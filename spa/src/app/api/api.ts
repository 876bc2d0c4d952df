import { Injectable, inject } from '@angular/core';
import { Router } from '@angular/router';
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { type I18nKey, t } from '../core/i18n';

/** Schemas of the API, generated from openapi/openapi.json. */
export type Schemas = components['schemas'];
export type Site = Schemas['SiteView'];
export type Me = Schemas['MeView'];
export type SecondFactorChallenge = Schemas['SecondFactorChallenge'];
export type QueryRequest = Schemas['QueryRequest'];
export type QueryResponse = Schemas['QueryResponse'];
export type QueryRow = Schemas['QueryRow'];

/** An API answer that was not a success: the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Turns an error body (or a network failure) into a sentence that says what happened. */
export function describeError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { error?: string; message?: string };
  const known = [0, 401, 403, 404, 409, 429, 500, 503];
  const fallback = known.includes(status) ? t(`apiError.${status}` as I18nKey) : t('apiError.other', { status });
  return new ApiError(status, b.error ?? String(status), b.message ?? fallback);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of an openapi-fetch result, or an ApiError. */
export async function ok<T>(p: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await p;
  } catch (e) {
    throw new ApiError(0, 'network', `${t('apiError.0')} (${(e as Error).message})`);
  }
  if (!r.response.ok) throw describeError(r.response.status, r.error);
  return r.data as T;
}

/**
 * The typed API client. Same-origin calls carry the session cookie; a share view sets a bearer
 * token (its access token) that every call then carries instead. A 401 outside a share view sends
 * the user to the login page.
 */
@Injectable({ providedIn: 'root' })
export class Api {
  private readonly router = inject(Router);
  /** Bearer token for every call (share views); null: the session cookie. */
  bearer: string | null = null;

  readonly client = createClient<paths>({ baseUrl: '/api', credentials: 'same-origin' });

  constructor() {
    const auth: Middleware = {
      onRequest: ({ request }) => {
        if (this.bearer) request.headers.set('Authorization', `Bearer ${this.bearer}`);
        return request;
      },
      onResponse: ({ response, schemaPath }) => {
        const publicPath = ['/setup', '/auth/login', '/auth/login/code', '/me', '/invites/{token}', '/invites/{token}/accept', '/share/{token}'];
        if (response.status === 401 && !this.bearer && !publicPath.includes(schemaPath)) {
          const next = this.router.url;
          if (!next.startsWith('/login')) void this.router.navigate(['/login'], { queryParams: { next } });
        }
        return response;
      },
    };
    this.client.use(auth);
  }

  /** Headers for a hand-made streaming request (the realtime event stream). */
  authHeaders(): Record<string, string> {
    return this.bearer ? { Authorization: `Bearer ${this.bearer}` } : {};
  }
}
